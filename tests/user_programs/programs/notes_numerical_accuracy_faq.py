# Adapted from pytorch/pytorch, docs/source/notes/numerical_accuracy.rst ("Numerical accuracy")
# and docs/source/notes/faq.rst ("Frequently Asked Questions"): their runnable snippets.
# Copyright (c) 2016- Facebook, Inc and PyTorch contributors. BSD-3-Clause: see NOTICE in this
# folder.
# Changed for autodiff's tests: `import autodiff as torch`; the snippets gathered into one
# program whose outputs are assertions; the notes' elided model, criterion and helpers are small
# ones of the program's own; the GPU-only settings (TF32, reduced-precision reductions) are read
# and set back, not measured; the FAQ's DataParallel module runs on the CPU; CHECK lines at the
# end.
import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.attention
from autodiff.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)

# ==== Numerical accuracy ====
# ---- Batched computations or slice computations: equal up to rounding ----
A = torch.randn(4, 5, 6)
B = torch.randn(4, 6, 3)
assert torch.allclose((A @ B)[0], A[0] @ B[0], atol=1e-6)
A2 = torch.randn(7, 9)
assert torch.allclose(A2.sum(-1)[0], A2[0, :].sum(), atol=1e-6)
assert torch.allclose(A2.sum(0)[0], A2[:, 0].sum(), atol=1e-6)

# ---- Extremal values ----
a = torch.tensor([1e20, 1e20])  # fp32 type by default
print(a.norm())  # produces tensor(inf)
print(a.double().norm())  # produces tensor(1.4142e+20, dtype=torch.float64)
# PyTorch's float32 power sum overflows (inf); autodiff scales it by a power of two and returns
# the norm, a deliberate difference (tests/test_numerical_accuracy.py)
assert a.dtype == torch.float32
assert torch.isinf(a.norm()) or torch.allclose(a.norm().double(), a.double().norm())
norm64 = a.double().norm()
assert norm64.dtype == torch.float64 and repr(norm64) == "tensor(1.4142e+20, dtype=torch.float64)"
assert torch.isfinite(norm64.float())  # representable in fp32

# ---- Linear algebra: non-finite values, and ill-conditioned inputs ----
M = torch.randn(3, 3, dtype=torch.float64)
bad = M.clone()
bad[1, 1] = float('nan')
assert torch.isfinite(M).all() and not torch.isfinite(bad).all()
ill = torch.tensor([[1.0, 1.0], [1.0, 1.0 + 1e-12]], dtype=torch.float64)
print(torch.linalg.svdvals(ill), torch.linalg.cond(ill))
assert torch.linalg.cond(ill) > 1e11 and torch.linalg.svdvals(ill)[-1] < 1e-11
assert torch.linalg.cond(torch.eye(3, dtype=torch.float64)) == 1
assert torch.allclose(torch.linalg.cond(M),
                      torch.linalg.svdvals(M)[0] / torch.linalg.svdvals(M)[-1])

# ---- TF32 and reduced precision reductions: the switches exist, and are read and set back ----
settings = [
    (torch.backends.cuda.matmul, "allow_tf32"),
    (torch.backends.cudnn, "allow_tf32"),
    (torch.backends.cuda.matmul, "allow_fp16_reduced_precision_reduction"),
    (torch.backends.cuda.matmul, "allow_bf16_reduced_precision_reduction"),
]
for owner, name in settings:
    before = getattr(owner, name)
    setattr(owner, name, not before)
    assert getattr(owner, name) == (not before)
    setattr(owner, name, before)
print(torch.get_float32_matmul_precision())
before = torch.get_float32_matmul_precision()
torch.set_float32_matmul_precision("high")
assert torch.get_float32_matmul_precision() == "high"
torch.set_float32_matmul_precision(before)
assert torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction is True

# ---- Reduced precision in scaled dot product attention: half inputs computed in float32 ----
q, k, v = (torch.randn(2, 3, 64, 32) * 3 for _ in range(3))
exact = torch.nn.functional.scaled_dot_product_attention(q.double(), k.double(), v.double())
half = [t.half() for t in (q, k, v)]
with torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH):
    upcast = torch.nn.functional.scaled_dot_product_attention(*half)
    torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(True)
    assert torch.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
    reduced = torch.nn.functional.scaled_dot_product_attention(*half)
    torch.backends.cuda.allow_fp16_bf16_reduction_math_sdp(False)
assert not torch.backends.cuda.fp16_bf16_reduction_math_sdp_allowed()
upcast_error = (upcast.double() - exact).abs().max()
reduced_error = (reduced.double() - exact).abs().max()
print(upcast_error, reduced_error)
assert upcast.dtype == reduced.dtype == torch.float16
assert upcast_error < reduced_error

# ==== FAQ ====
# ---- Don't accumulate history across your training loop ----
model = nn.Linear(4, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
input = torch.randn(16, 4)
target = input.sum(1, keepdim=True)


def criterion(output):
    return (output - target).pow(2).mean()


total_loss = 0
for i in range(20):
    optimizer.zero_grad()
    output = model(input)
    loss = criterion(output)
    loss.backward()
    optimizer.step()
    total_loss += loss
assert isinstance(total_loss, torch.Tensor) and total_loss.requires_grad  # the whole history
assert total_loss.grad_fn is not None

total_loss = 0
for i in range(20):
    optimizer.zero_grad()
    output = model(input)
    loss = criterion(output)
    loss.backward()
    optimizer.step()
    total_loss += float(loss)
assert type(total_loss) is float
print(total_loss)

# ---- The scopes of locals can be larger than you expect ----


def f(x):
    return x * 2


def g(x):
    return x.sum()


def h(x):
    return x.sqrt()


def scoped(input):
    result = 0
    for i in range(5):
        intermediate = f(input[i])
        result += g(intermediate)
    del intermediate  # freed before h runs
    output = h(result)
    return output


scoped_output = scoped(torch.rand(5, 3))
assert scoped_output.shape == ()

# ---- My out of memory exception handler can't allocate memory ----
calls = []


def run_model(batch_size):
    calls.append(batch_size)
    if batch_size > 1:
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
    return model(torch.randn(batch_size, 4))


batch_size = 4
oom = False
try:
    run_model(batch_size)
except RuntimeError:  # Out of memory
    oom = True

if oom:
    for _ in range(batch_size):
        run_model(1)
assert calls == [4, 1, 1, 1, 1]

# ---- My recurrent network doesn't work with data parallelism: total_length ----


class MyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.my_lstm = nn.LSTM(3, 5, batch_first=True)

    # padded_input is of shape [B x T x *] (batch_first mode) and contains
    # the sequences sorted by lengths
    #   B is the batch size
    #   T is max sequence length
    def forward(self, padded_input, input_lengths):
        total_length = padded_input.size(1)  # get the max sequence length
        packed_input = pack_padded_sequence(padded_input, input_lengths,
                                            batch_first=True)
        packed_output, _ = self.my_lstm(packed_input)
        output, _ = pad_packed_sequence(packed_output, batch_first=True,
                                        total_length=total_length)
        return output


m = MyModule()
dp_m = nn.DataParallel(m)
padded_input = torch.randn(3, 6, 3)
input_lengths = torch.tensor([4, 3, 2])  # none as long as T: the padding would stop at 4
output = dp_m(padded_input, input_lengths)
print(output.shape)
assert output.shape == (3, 6, 5)
assert (output[0, 4:] == 0).all() and (output[2, 2:] == 0).all()
assert (output[0, :4] != 0).any()
short, lengths = pad_packed_sequence(
    pack_padded_sequence(padded_input, input_lengths, batch_first=True), batch_first=True)
assert short.shape == (3, 4, 3) and lengths.tolist() == [4, 3, 2]
try:
    pad_packed_sequence(pack_padded_sequence(padded_input, input_lengths, batch_first=True),
                        batch_first=True, total_length=3)
except ValueError as error:
    print(error)
    assert "total_length" in str(error)
else:
    raise AssertionError("a total_length below the longest sequence was accepted")

print("CHECK norm64", float(norm64))
print("CHECK cond_eye", float(torch.linalg.cond(torch.eye(3, dtype=torch.float64))))
print("CHECK scoped", float(torch.tensor(2.0).sqrt()))
