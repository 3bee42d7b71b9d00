# Adapted from pytorch/tutorials, intermediate_source/transformer_building_blocks.py
# ("Accelerating PyTorch Transformers by replacing nn.Transformer with Nested Tensors and
# torch.compile()").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the MultiHeadAttention layer on
# jagged nested tensors, checked against the same layer on each sequence alone (the tutorial's
# padded comparison), smaller sizes, no torch.compile or timing; float64; a seed; assertions.
# Query, key and value are distinct tensors, so the packed projection is applied in three
# F.linear calls: PyTorch's CPU kernel for jagged SDPA refuses the non-contiguous chunks of
# one packed projection ("No viable backend").
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F

torch.manual_seed(0)

sentence_lengths = [1, 4, 3, 6]
E = 8
sentences = [torch.randn(length, E, dtype=torch.float64) for length in sentence_lengths]
nt = torch.nested.nested_tensor(sentences, layout=torch.jagged)
print(f"{nt.shape=}")
print(f"{nt.is_nested=}")
assert nt.is_nested and nt.dim() == 3 and nt.size(0) == 4 and nt.size(2) == E
assert nt.layout == torch.jagged
assert nt.offsets().tolist() == [0, 1, 5, 8, 14]
assert nt.values().shape == (14, E)
assert [component.shape for component in nt.unbind()] == [(n, E) for n in sentence_lengths]

padded = torch.nested.to_padded_tensor(nt, padding=0.0)
print(f"{padded.shape=}")
assert padded.shape == (4, 6, E) and padded[0, 1:].abs().sum().item() == 0.0


class MultiHeadAttention(nn.Module):
    """
    Computes multi-head attention. Supports nested or padded tensors.

    Args:
        E_q (int): Size of embedding dim for query
        E_k (int): Size of embedding dim for key
        E_v (int): Size of embedding dim for value
        E_total (int): Total embedding dim of combined heads post input projection. Each head
            has dim E_total // nheads
        nheads (int): Number of heads
        dropout (float, optional): Dropout probability. Default: 0.0
        bias (bool, optional): Whether to add bias to input projection. Default: True
    """

    def __init__(self, E_q, E_k, E_v, E_total, nheads, dropout=0.0, bias=True, device=None,
                 dtype=None):
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        self.nheads = nheads
        self.dropout = dropout
        self._qkv_same_embed_dim = E_q == E_k and E_q == E_v
        if self._qkv_same_embed_dim:
            self.packed_proj = nn.Linear(E_q, E_total * 3, bias=bias, **factory_kwargs)
        else:
            self.q_proj = nn.Linear(E_q, E_total, bias=bias, **factory_kwargs)
            self.k_proj = nn.Linear(E_k, E_total, bias=bias, **factory_kwargs)
            self.v_proj = nn.Linear(E_v, E_total, bias=bias, **factory_kwargs)
        E_out = E_q
        self.out_proj = nn.Linear(E_total, E_out, bias=bias, **factory_kwargs)
        assert E_total % nheads == 0, "Embedding dim is not divisible by nheads"
        self.E_head = E_total // nheads
        self.bias = bias

    def forward(self, query, key, value, attn_mask=None, is_causal=False):
        # Step 1. Apply input projection
        if self._qkv_same_embed_dim:
            if query is key and key is value:
                result = self.packed_proj(query)
                query, key, value = torch.chunk(result, 3, dim=-1)
            else:
                q_weight, k_weight, v_weight = torch.chunk(self.packed_proj.weight, 3, dim=0)
                if self.bias:
                    q_bias, k_bias, v_bias = torch.chunk(self.packed_proj.bias, 3, dim=0)
                else:
                    q_bias, k_bias, v_bias = None, None, None
                query, key, value = (
                    F.linear(query, q_weight, q_bias),
                    F.linear(key, k_weight, k_bias),
                    F.linear(value, v_weight, v_bias),
                )
        else:
            query = self.q_proj(query)
            key = self.k_proj(key)
            value = self.v_proj(value)

        # Step 2. Split heads and prepare for SDPA
        # reshape query, key, value to separate by head
        # (N, L_t, E_total) -> (N, L_t, nheads, E_head) -> (N, nheads, L_t, E_head)
        query = query.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)
        # (N, L_s, E_total) -> (N, L_s, nheads, E_head) -> (N, nheads, L_s, E_head)
        key = key.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)
        # (N, L_s, E_total) -> (N, L_s, nheads, E_head) -> (N, nheads, L_s, E_head)
        value = value.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)

        # Step 3. Run SDPA
        # (N, nheads, L_t, E_head)
        attn_output = F.scaled_dot_product_attention(
            query, key, value, dropout_p=self.dropout, is_causal=is_causal
        )
        # (N, nheads, L_t, E_head) -> (N, L_t, nheads, E_head) -> (N, L_t, E_total)
        attn_output = attn_output.transpose(1, 2).flatten(-2)

        # Step 4. Apply output projection
        # (N, L_t, E_total) -> (N, L_t, E_out)
        attn_output = self.out_proj(attn_output)

        return attn_output


mha = MultiHeadAttention(E, E, E, E_total=16, nheads=4, dtype=torch.float64)
query = torch.nested.nested_tensor(sentences, layout=torch.jagged, requires_grad=True)
key, value = query.clone(), query.clone()
out = mha(query, key, value)
print(f"{out.shape=}")
assert out.is_nested and out.size(0) == 4 and out.size(-1) == E

# each sequence alone is what the nested batch computes for it
for sentence, component in zip(sentences, out.unbind()):
    alone = mha(sentence[None], sentence[None].clone(), sentence[None].clone())[0]
    assert torch.allclose(alone, component, atol=1e-10)

# cross-attention with different projections for query, key and value
cross = MultiHeadAttention(E, 6, 5, E_total=16, nheads=2, dtype=torch.float64)
keys = torch.nested.nested_tensor([torch.randn(n + 1, 6, dtype=torch.float64)
                                   for n in sentence_lengths], layout=torch.jagged)
values = torch.nested.nested_tensor([torch.randn(n + 1, 5, dtype=torch.float64)
                                     for n in sentence_lengths], layout=torch.jagged)
cross_out = cross(query, keys, values)
assert cross_out.is_nested and cross_out.size(-1) == E

# training step through the nested batch
loss = out.values().square().mean() + cross_out.values().square().mean()
loss.backward()
assert mha.packed_proj.weight.grad is not None and mha.out_proj.bias.grad is not None
assert cross.k_proj.weight.grad is not None
assert query.grad is not None and query.grad.is_nested
print("loss", loss.item())
