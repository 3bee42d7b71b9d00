"""Settings of `autodiff.compile`, named as `torch._dynamo.config`'s.

recompile_limit: how many signatures one compiled function traces. A function whose calls keep
    bringing new signatures (a learning rate that changes every step, a growing sequence length)
    would otherwise trace on every call and hold every program; past the limit a new signature
    runs eagerly, with one warning, while the signatures already traced keep replaying.
fail_on_recompile_limit_hit: raise instead (as `fullgraph=True` always does).
"""

recompile_limit = 8
fail_on_recompile_limit_hit = False
