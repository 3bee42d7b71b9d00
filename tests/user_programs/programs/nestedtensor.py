# Adapted from pytorch/tutorials, unstable_source/nestedtensor.py ("Getting Started with Nested
# Tensors").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; sizes shrunk
# (a batch of 16, embeddings of 32, 4 heads); `torch.cuda.synchronize()` runs only where CUDA
# is available; attention is causal only on CUDA (PyTorch's CPU kernels refuse is_causal=True
# with nested inputs), so the nested output is also checked against the module run on each
# sentence alone; assertions and CHECK lines at the end.
import timeit

import numpy as np

import autodiff as torch
import autodiff.nn.functional as F
from autodiff import nn

torch.manual_seed(1)
np.random.seed(1)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Nested tensor initialization
nt = torch.nested.nested_tensor([torch.arange(12).reshape(
    2, 6), torch.arange(18).reshape(3, 6)], dtype=torch.float, device=device)
print(f"{nt=}")

padded_out_tensor = torch.nested.to_padded_tensor(nt, padding=0.0)
print(f"{padded_out_tensor=}")

print(f"nt is nested: {nt.is_nested}")
print(f"padded_out_tensor is nested: {padded_out_tensor.is_nested}")

print("First underlying tensor component:", nt[0], sep='\n')
print("last column of 2nd underlying tensor component:", nt[1, :, -1], sep='\n')

print(f"First underlying tensor component is nested: {nt[0].is_nested}")

# Nested Tensor Operations
nt_reshaped = nt.reshape(2, -1, 2, 3)
print(f"{nt_reshaped=}")

nt_transposed = nt_reshaped.transpose(1, 2)
print(f"{nt_transposed=}")

nt_mm = torch.nested.nested_tensor([torch.randn((2, 3, 4)), torch.randn((2, 3, 5))], device=device)
nt3 = torch.matmul(nt_transposed, nt_mm)
print(f"Result of Matmul:\n {nt3}")

nt4 = F.dropout(nt3, 0.1)
print(f"Result of Dropout:\n {nt4}")

nt5 = F.softmax(nt4, -1)
print(f"Result of Softmax:\n {nt5}")

# Why Nested Tensor
sentences = [["goodbye", "padding"],
             ["embrace", "nested", "tensor"]]
vocabulary = {"goodbye": 1.0, "padding": 2.0,
              "embrace": 3.0, "nested": 4.0, "tensor": 5.0}
padded_sentences = torch.tensor([[1.0, 2.0, 0.0],
                                 [3.0, 4.0, 5.0]])
nested_sentences = torch.nested.nested_tensor([torch.tensor([1.0, 2.0]),
                                               torch.tensor([3.0, 4.0, 5.0])])
print(f"{padded_sentences=}")
print(f"{nested_sentences=}")

padded_sentences_for_softmax = torch.tensor([[1.0, 2.0, float("-inf")],
                                             [3.0, 4.0, 5.0]])
print(F.softmax(padded_sentences_for_softmax, -1))
print(F.softmax(nested_sentences, -1))


class MultiHeadAttention(nn.Module):
    """
    Computes multi-head attention. Supports nested or padded tensors.
    """
    def __init__(self, E_q: int, E_k: int, E_v: int, E_total: int,
                 nheads: int, dropout_p: float = 0.0):
        super().__init__()
        self.nheads = nheads
        self.dropout_p = dropout_p
        self.query_proj = nn.Linear(E_q, E_total)
        self.key_proj = nn.Linear(E_k, E_total)
        self.value_proj = nn.Linear(E_v, E_total)
        E_out = E_q
        self.out_proj = nn.Linear(E_total, E_out)
        assert E_total % nheads == 0, "Embedding dim is not divisible by nheads"
        self.E_head = E_total // nheads

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        # Step 1. Apply input projection
        query = self.query_proj(query)
        key = self.key_proj(key)
        value = self.value_proj(value)

        # Step 2. Split heads and prepare for SDPA
        query = query.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)
        key = key.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)
        value = value.unflatten(-1, [self.nheads, self.E_head]).transpose(1, 2)

        # Step 3. Run SDPA
        attn_output = F.scaled_dot_product_attention(
            query, key, value, dropout_p=dropout_p, is_causal=is_causal)
        attn_output = attn_output.transpose(1, 2).flatten(-2)

        # Step 4. Apply output projection
        attn_output = self.out_proj(attn_output)

        return attn_output


N = 16
E_q, E_k, E_v, E_total = 32, 32, 32, 32
E_out = E_q
nheads = 4

dropout_p = 0.0
is_causal = torch.cuda.is_available()


def zipf_sentence_lengths(alpha: float, batch_size: int) -> torch.Tensor:
    # generate fake corpus by unigram Zipf distribution
    # from wikitext-2 corpus, we get rank "." = 3, "!" = 386, "?" = 858
    sentence_lengths = np.empty(batch_size, dtype=int)
    for ibatch in range(batch_size):
        sentence_lengths[ibatch] = 1
        word = np.random.zipf(alpha)
        while word != 3 and word != 386 and word != 858:
            sentence_lengths[ibatch] += 1
            word = np.random.zipf(alpha)
    return torch.tensor(sentence_lengths)


def gen_batch(N, E_q, E_k, E_v, device):
    sentence_lengths = zipf_sentence_lengths(alpha=1.2, batch_size=N)

    query = torch.nested.nested_tensor([
        torch.randn(l.item(), E_q, device=device)
        for l in sentence_lengths
    ], layout=torch.jagged)

    key = torch.nested.nested_tensor([
        torch.randn(s.item(), E_k, device=device)
        for s in sentence_lengths
    ], layout=torch.jagged)

    value = torch.nested.nested_tensor([
        torch.randn(s.item(), E_v, device=device)
        for s in sentence_lengths
    ], layout=torch.jagged)

    return query, key, value, sentence_lengths


query, key, value, sentence_lengths = gen_batch(N, E_q, E_k, E_v, device)


def jagged_to_padded(jt, padding_val):
    return torch.nested.to_padded_tensor(
        torch.nested.nested_tensor(list(jt.unbind())),
        padding_val)


padded_query, padded_key, padded_value = (
    jagged_to_padded(t, 0.0) for t in (query, key, value)
)

mha = MultiHeadAttention(E_q, E_k, E_v, E_total, nheads, dropout_p).to(device=device)


def benchmark(func, *args, **kwargs):
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    begin = timeit.default_timer()
    output = func(*args, **kwargs)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    end = timeit.default_timer()
    return output, (end - begin)


output_nested, time_nested = benchmark(mha, query, key, value)
output_padded, time_padded = benchmark(mha, padded_query, padded_key, padded_value)

for i, entry_length in enumerate(sentence_lengths):
    output_padded[i, entry_length:] = 0.0

difference = (jagged_to_padded(output_nested, 0.0) - output_padded).abs().max().item()
print("=== without torch.compile ===")
print("nested and padded calculations differ by", difference)
print("nested tensor multi-head attention takes", time_nested, "seconds")
print("padded tensor multi-head attention takes", time_padded, "seconds")

compiled_mha = torch.compile(mha)
compiled_mha(query, key, value)
compiled_output_nested, compiled_time_nested = benchmark(
    compiled_mha, query, key, value)

compiled_mha(padded_query, padded_key, padded_value)
compiled_output_padded, compiled_time_padded = benchmark(
    compiled_mha, padded_query, padded_key, padded_value)

for i, entry_length in enumerate(sentence_lengths):
    compiled_output_padded[i, entry_length:] = 0.0

compiled_difference = (jagged_to_padded(compiled_output_nested, 0.0)
                       - compiled_output_padded).abs().max().item()
print("=== with torch.compile ===")
print("nested and padded calculations differ by", compiled_difference)
print(f"Nested speedup: {compiled_time_padded / compiled_time_nested:.3f}")

# Checks: the nested and padded computations agree, and the layouts are as the tutorial says.
assert nt.is_nested and not padded_out_tensor.is_nested and not nt[0].is_nested
assert padded_out_tensor.shape == (2, 3, 6)
assert torch.equal(nt[1, :, -1], torch.tensor([5.0, 11.0, 17.0]))
assert [t.shape for t in nt3.unbind()] == [(2, 2, 4), (2, 3, 5)]
assert query.is_nested and query.layout == torch.jagged and query.dim() == 3
assert output_nested.is_nested and output_padded.shape[0] == N
if is_causal:
    assert difference < 1e-5 and compiled_difference < 1e-5, (difference, compiled_difference)
for output in (output_nested, compiled_output_nested):
    for q, k, v, out in zip(query.unbind(), key.unbind(), value.unbind(), output.unbind()):
        torch.testing.assert_close(out, mha(q[None], k[None], v[None])[0], atol=1e-5, rtol=1e-5)
softmaxed = F.softmax(nested_sentences, -1)
torch.testing.assert_close(softmaxed[1], F.softmax(padded_sentences_for_softmax, -1)[1])
print("CHECK padded_sum", padded_out_tensor.sum().item())
print("CHECK softmax_first", softmaxed[0][0].item())
print("CHECK nt5_components", len(nt5.unbind()))
