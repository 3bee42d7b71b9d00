"""autodiff.functorch.dim against PyTorch's functorch.dim: each case runs once per library on
the same data; values, levels (first-class dims and their order), gradients and errors must
agree."""

from __future__ import annotations

import numpy as np
import pytest

import autodiff
import autodiff.functorch.dim as adim

torch = pytest.importorskip("torch")
tdim = pytest.importorskip("functorch.dim")

LIBS = {"torch": (torch, tdim), "autodiff": (autodiff, adim)}
RNG = np.random.default_rng(0)


def normal(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """The same numbers for both libraries' runs of a case."""
    return np.random.default_rng(seed).standard_normal(shape)
DATA = {
    "A": RNG.standard_normal((3, 4)),
    "B": RNG.standard_normal((4, 5)),
    "C": RNG.standard_normal((3, 4, 5)),
    "S": RNG.standard_normal((4, 4)),
    "v": RNG.standard_normal(16),
    "q": RNG.standard_normal((2, 5, 3)),
    "k": RNG.standard_normal((2, 6, 3)),
    "w": RNG.standard_normal((2, 6, 4)),
}


def _levels(lib: str, result: object) -> list[str]:
    levels = result._levels if lib == "torch" else result._levels()
    return [str(level.data if lib == "torch" else level) for level in levels]


def _physical(lib: str, result: object) -> np.ndarray:
    tensor = result._tensor if lib == "torch" else result._physical()
    return tensor.detach().cpu().numpy()


def describe(lib: str, result: object) -> object:
    """A result as plain data: arrays for tensors, (levels, array) for first-class tensors."""
    mod, dim_mod = LIBS[lib]
    if isinstance(result, dim_mod.Tensor) and not isinstance(result, dim_mod.Dim):
        return ("fc", _levels(lib, result), _physical(lib, result))
    if isinstance(result, mod.Tensor):
        return np.asarray(result.detach().cpu().numpy())
    if isinstance(result, (tuple, list)):
        return tuple(describe(lib, item) for item in result)
    return result


def assert_same(expected: object, actual: object) -> None:
    if isinstance(expected, np.ndarray):
        assert isinstance(actual, np.ndarray), actual
        assert expected.shape == actual.shape
        np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-9)
    elif isinstance(expected, tuple):
        assert isinstance(actual, tuple) and len(actual) == len(expected), actual
        for e, a in zip(expected, actual):
            assert_same(e, a)
    else:
        assert actual == expected


def run(case, lib: str, device: str = "cpu") -> object:
    mod, dim_mod = LIBS[lib]
    data = {name: mod.tensor(array, device=device) for name, array in DATA.items()}
    try:
        return describe(lib, case(mod, dim_mod, data))
    except Exception as error:
        return ("error", type(error).__name__, str(error))


CASES = {}


def case(function):
    CASES[function.__name__] = function
    return function


# --------------------------------------------------------------------------- binding and dims
@case
def bind_and_order(t, d, x):
    i, k = d.dims()
    return x["A"][i, k].order(k, i)


@case
def bind_one(t, d, x):
    i = d.dims()
    return x["A"][i]


@case
def bind_sizes(t, d, x):
    i, k = d.dims()
    r = x["C"][i, k]
    return (r, i.size, k.size, r.ndim, r.dim(), tuple(r.shape), str(i), repr(k), i.is_bound)


@case
def too_many(t, d, x):
    i, j, k = d.dims()
    return x["A"][i, j, k]


@case
def unbound_size(t, d, x):
    i = d.dims()
    return i.size


@case
def set_size(t, d, x):
    i = d.dims()
    i.size = 3
    return (i.size, i.is_bound)


@case
def rebind_size(t, d, x):
    i = d.dims()
    i.size = 3
    i.size = 4


@case
def dims_with_sizes(t, d, x):
    a, b = d.dims(sizes=[3, None])
    return (a.size, b.is_bound, str(a), str(b))


@case
def dims_n(t, d, x):
    dd = d.dims(3)
    return tuple(str(z) for z in dd)


@case
def dims_unassigned(t, d, x):
    return str(d.dims())


@case
def dims_wrong_sizes(t, d, x):
    return d.dims(2, sizes=[3])


@case
def ellipsis(t, d, x):
    k = d.dims()
    return x["A"][..., k].order(k)


@case
def two_ellipsis(t, d, x):
    i = d.dims()
    return x["C"][..., i, ...]


@case
def none_in_key(t, d, x):
    i = d.dims()
    return x["A"][None, i]


@case
def dimpack(t, d, x):
    i, j, k = d.dims()
    k.size = 2
    return x["A"][i, [j, k]].order(i, j, k)


@case
def dimpack_infer_two(t, d, x):
    a, b = d.dims()
    return x["v"][[a, b],]


@case
def dimpack_uneven(t, d, x):
    a, b = d.dims()
    a.size = 3
    return x["v"][[a, b],]


@case
def dimlist(t, d, x):
    i = d.dims()
    a_ = d.dimlists()
    return x["A"][i, a_].order(*a_, i)


@case
def dimlist_empty(t, d, x):
    i, k = d.dims()
    b_ = d.dimlists()
    return (x["A"][i, b_, k].order(i, k, *b_), len(b_))


@case
def dimlist_repr(t, d, x):
    a_ = d.dimlists()
    before = repr(a_)
    x["C"][a_, ]
    return (before, repr(a_), len(a_), str(a_[0]), a_.is_bound)


@case
def diagonal(t, d, x):
    i = d.dims()
    return x["S"][i, i].order(i)


@case
def index_tensor(t, d, x):
    b, f = d.dims()
    ids = t.tensor([1, 0, 3, 2])
    return x["B"][ids[b], f].order(b, f)


@case
def dim_arithmetic_index(t, d, x):
    c = d.dims()
    c.size = 2
    return x["A"][c + 1, c + 0].order(c)


@case
def index_placement(t, d, x):
    i, j = d.dims(sizes=[2, 4])
    A = t.tensor(np.arange(24.0).reshape(1, 2, 3, 4))
    return A[:, i + 0, :, j + 0]


@case
def sum_of_dims(t, d, x):
    i, k = d.dims()
    x["A"][i, k]
    return (i + k - 1).order(i, k)


@case
def dims_compare(t, d, x):
    i, j = d.dims(sizes=[3, 3])
    return ((i == j).sum((i, j)), (i <= j).order(i, j))


# --------------------------------------------------------------------------- pointwise
@case
def pointwise_levels(t, d, x):
    i, j = d.dims()
    a = x["A"][i]
    b = x["B"][j]
    return (a + b, b + a, a * x["A"][0], x["A"][0] * a)


@case
def pointwise_positional_mix(t, d, x):
    i, k = d.dims()
    return x["C"][i] + x["B"][k]


@case
def pointwise_unary(t, d, x):
    i = d.dims()
    a = x["A"][i]
    return (a.exp(), -a, abs(a), a.sigmoid(), a.clamp(-0.5, 0.5), a > 0)


@case
def plain_op_fc(t, d, x):
    i = d.dims()
    a = x["A"][i]
    return (x["A"][0] - a, 2 - a, a / 2, 2 / (a.abs() + 1))


@case
def matmul(t, d, x):
    i, j, k = d.dims()
    return (x["A"][i, k] * x["B"][k, j]).sum(k).order(i, j)


@case
def matmul_expand(t, d, x):
    i, j, k = d.dims()
    a = x["A"][i, k]
    b = x["B"][k, j]
    return (a.expand(j) * b.expand(i)).sum(k).order(i, j)


@case
def expand_existing(t, d, x):
    i = d.dims()
    return x["A"][i].expand(i)


@case
def expand_sizes(t, d, x):
    i = d.dims()
    return tuple(x["A"][i].expand(2, 4).order(i).size())


@case
def expand_new(t, d, x):
    i, j, k = d.dims()
    j.size = 5
    return x["A"][i, k].expand(j).order(j, i, k)


# --------------------------------------------------------------------------- reductions
@case
def reductions(t, d, x):
    i, k = d.dims()
    a = x["A"][i, k]
    return (a.sum(i), a.mean(k), a.amax(i), a.prod(k), a.logsumexp(i), a.sum((i, k)),
            a.sum(), x["A"][i].sum(0), x["A"][i].sum((0, i)), x["A"][i].sum((-1, i)))


@case
def max_indices(t, d, x):
    i, j, k = d.dims()
    a = t.tensor(DATA["C"])[i, j, k]
    r, idx = a.max(dim=k)
    return (r.order(i, j), idx.order(i, j), a.argmax(k), a.min(j)[0])


@case
def std_var(t, d, x):
    i = d.dims()
    return (x["A"][i].std(i, True), x["A"][i].var(i))


@case
def sort_softmax(t, d, x):
    i, k = d.dims()
    a = x["A"][i, k]
    return (a.sort(k)[0].order(i, k), a.softmax(k).order(i, k), a.cumsum(i).order(i, k),
            d.softmax(a, k).order(k, i))


@case
def kthvalue_keyword(t, d, x):
    i, k = d.dims()
    values, indices = x["A"][i, k].kthvalue(2, dim=k)
    return values.order(i), indices.order(i)


@case
def renorm(t, d, x):
    i = d.dims()
    return x["A"][i].renorm(1, i, 7).order(i)


@case
def keepdim_dim(t, d, x):
    i = d.dims()
    return x["A"][i].sum(i, keepdim=True)


@case
def reduce_missing(t, d, x):
    i, k = d.dims()
    return x["A"][i].sum(k)


@case
def positional_reduction(t, d, x):
    i = d.dims()
    a = x["C"][i]
    return (a.sum(0), a.max(), a.mean(0), a.std(0))


# --------------------------------------------------------------------------- order, index
@case
def order_positions(t, d, x):
    i = d.dims()
    return x["C"][i].order(1, i)


@case
def order_flatten(t, d, x):
    i, j, k = d.dims()
    return x["C"][i, k, j].order((i, j)).order(k)


@case
def order_missing(t, d, x):
    i, j = d.dims()
    return x["A"][i].order(j)


@case
def order_twice(t, d, x):
    i = d.dims()
    return x["A"][i].order(0, 0)


@case
def order_keyword(t, d, x):
    i = d.dims()
    return x["A"][i].order(wrong=3)


@case
def tensor_index(t, d, x):
    i, k = d.dims()
    return (x["C"].index(0, i), x["C"].index((0, 2), (i, k)), x["C"].index(-1, k))


@case
def tensor_index_pack(t, d, x):
    ik = d.dims()
    return x["C"].index((0, 2), ik).order(ik)


@case
def tensor_index_lengths(t, d, x):
    i = d.dims()
    return x["A"].index((0, 1), (i,))


@case
def tensor_index_wrap(t, d, x):
    k = d.dims()
    return x["A"].index(2, k)


@case
def tensor_index_bad(t, d, x):
    k = d.dims()
    return x["A"].index("a", k)


@case
def fc_index(t, d, x):
    i, k, o, low, z = d.dims()
    o.size = 2
    r = x["A"][i, k].index(k, [o, low])
    rr = r.index([o, low], k)
    C = t.arange(2)
    return (r.order(i, o, low), rr.order(i, k), x["A"][i, k].index(k, C[z]).order(i, z))


@case
def index_edge_cases(t, d, x):
    i, k, m, n = d.dims()
    a = x["C"][i]
    return (x["C"].index(-2, m), a.index((0, 1), (k, 2)), x["C"].index([(0, 1)], [n]))


@case
def index_unknown_dim(t, d, x):
    i, k = d.dims()
    return x["A"][i].index(k, 0)


@case
def index_pack_unknown(t, d, x):
    i, k, o = d.dims()
    return x["A"][i].index([k, o], i)


@case
def fc_index_missing(t, d, x):
    i, k, o = d.dims()
    return x["A"][i].index([i, o], k)


# --------------------------------------------------------------------------- joining, misc
@case
def stack_dims(t, d, x):
    i, j, s = d.dims()
    return d.stack([x["A"][i, j], x["A"][i, j] * 2], s, j)


@case
def split_dims(t, d, x):
    s, c_, a, b, c = d.dims()
    return x["A"].T[s, c_].split((a, b, c), dim=c_)


@case
def split_mix(t, d, x):
    s, c_, a = d.dims()
    return x["A"][s, c_].split((a, 1), dim=c_)


@case
def repr_string(t, d, x):
    i = d.dims()
    r = t.tensor([[1.0, 2.0], [3.0, 4.0]])[i]
    return repr(r).split("\n")[-1]


@case
def where_triu(t, d, x):
    i, j = d.dims()
    a = x["S"][i, j]
    zero = t.tensor(0.0, dtype=t.float64)
    return t.where(i <= j, a, zero).order(i, j)


@case
def exp_function(t, d, x):
    i = d.dims()
    return t.exp(x["A"][i])


@case
def softmax_split(t, d, x):
    g, i = d.dims(sizes=[2, None])
    a2 = x["v"][[i, g],]
    m_b, _ = a2.max(i)
    f_b = t.exp(a2 - m_b)
    l_b = f_b.sum(i)
    m, _ = m_b.max(g)
    c = t.exp(m_b - m)
    f = (c * f_b).order((i, g))
    total = (c * l_b).sum(g)
    return f / total


@case
def attention(t, d, x):
    b, q, k, f, v = d.dims()
    query, key, value = x["q"][b, q, f], x["k"][b, k, f], x["w"][b, k, v]
    scores = (query * key).sum(f) / 3 ** 0.5
    weights = scores.softmax(k)
    return (weights * value).sum(k).order(b, q, v)


@case
def einsum_like(t, d, x):
    i, j, k = d.dims()
    C = x["C"][i, j, k]
    return (C.sum(j).order(i, k), (C * C).sum((i, k)).order(j), C.order(k, j, i))


@case
def setitem_embed(t, d, x):
    embeddings = t.zeros(10, 3, dtype=t.float64)
    indices = t.arange(2) + 1
    values = t.tensor(DATA["A"][:2, :3])
    i, f = d.dims()
    embeddings[indices[i], f] += values[i, f]
    return embeddings


@case
def setitem_foreign_dim(t, d, x):
    i, j = d.dims()
    target = t.zeros(3, 4, dtype=t.float64)
    target[i] = x["B"][j]


@case
def readme_bmm(t, d, x):
    def mm(A, B):
        i, j, k = d.dims()
        return (A[i, k] * B[k, j]).sum(k).order(i, j)

    b = d.dims()
    return mm(x["q"][b], x["k"][b].transpose(1, 2)).order(b)


@case
def readme_embedding_bag(t, d, x):
    batch, sequence, features = d.dims()
    ids = t.tensor([[0, 3, 1], [2, 2, 0]])
    return x["B"][ids[batch, sequence], features].sum(sequence).order(batch, features)


@case
def readme_pixel_shuffle(t, d, x):
    h2, w2, c, b, h, w = d.dims()
    h2.size = w2.size = 2
    img = t.tensor(np.arange(2 * 8 * 3 * 3, dtype=np.float64).reshape(2, 8, 3, 3))
    return img[b, (c, h2, w2), h, w].order(b, c, (h, h2), (w, w2))


@case
def readme_relative_positions(t, d, x):
    i, j = d.dims(sizes=[4, 4])
    table = t.tensor(np.arange(7.0) * 10)
    return table[i - j + 3].order(i, j)


@case
def readme_outer_and_trace(t, d, x):
    i, j = d.dims()
    return (x["A"][0][i] * x["B"][0][j]).order(i, j), x["S"][i, i].sum(i)


# --------------------------------------------------------------------------- from test_dims.py
@case
def torch_suite_manual_stuff(t, d, x):
    i, k = d.dims()
    A = x["A"][i, k]
    r, c = d.dims()
    zero = t.tensor(0, dtype=t.float64)
    S = x["S"][r, c]
    triu = t.where(r <= c, S, zero).order(r, c)
    D_ = t.tensor([2, 0, 1, 1, 0, 2])
    e = d.dims()
    return triu, A.index([i], [D_[e]]).order(k, e)


@case
def torch_suite_with_dims_split(t, d, x):
    a = t.arange(3 * 12).view(3, 12)
    i, j, k = d.dims()
    k.size = 4
    return a[i, [j, k]].order(i, [j, k])


@case
def torch_suite_hello(t, d, x):
    i, j, k = d.dims()
    A = x["A"]
    x["B"][k, j]
    return (A[i].sum(0, keepdim=True).sum((0, i)), A[i, k].max(i)[0].order(k),
            A[i, k].expand(j).order(j, i, k))


@case
def torch_suite_mask(t, d, x):
    a = x["v"][:5]
    i, j = d.dims(sizes=[5, 5])
    return ((i >= j) * a[i]).sum(j).order(i)


@case
def torch_suite_permute_orig(t, d, x):
    e = d.dims(1)
    t_fc = t.tensor(np.zeros((1, 2, 3, 4)))[e]
    return (tuple(t_fc.permute(dims=(1, 0, 2)).shape), tuple(t_fc.permute(1, 0, 2).shape))


@case
def torch_suite_functorch_mm(t, d, x):
    i, j = d.dims()
    A = x["C"]
    B = x["C"] * 2
    C = t.tensor(DATA["B"].T[:, :2])
    AA = A[i].mm(C)
    BB = B[j].mm(C)
    return AA.T.mm(BB).order(i, j)


@case
def permute_keyword(t, d, x):
    A = x["A"]
    return (A.permute(dims=(1, 0)), t.permute(A, dims=(1, 0)))


@case
def permute_keyword_twice(t, d, x):
    return x["A"].permute(1, dims=(1, 0))


@case
def torch_suite_stack(t, d, x):
    i, j, s = d.dims()
    return d.stack([x["A"][i, j]], s, j)


@case
def readme_gram_matrix(t, d, x):
    b, c, c2, h, w = d.dims()
    y = t.tensor(normal((1, 2, 3, 4)))
    r = (y[b, c, h, w] * y[b, c2, h, w]).sum((h, w))
    r = r / (h.size * w.size)
    return r.order(b, c, c2)


@case
def readme_attention_cat(t, d, x):
    K, Q, V = (t.tensor(normal((2, 3, 4)) + n) for n in range(3))
    batch, channel, key, query = d.dims(4)
    k = K[batch, channel, key]
    q = Q[batch, channel, query]
    v = V[batch, channel, key]
    a = (k * q).sum(channel)
    a = d.softmax(a * (channel.size ** -0.5), dim=key)
    r = (v * a).sum(key)
    return t.cat((r.order(batch, channel, query), Q), dim=1)


@case
def readme_batching_model(t, d, x):
    weights = t.tensor(DATA["B"][:, 0])

    def model(feature_vec):
        assert feature_vec.dim() == 1
        return feature_vec.dot(weights).relu()

    batch = d.dims(1)
    return model(x["A"][batch])


@case
def readme_multihead_attention(t, d, x):
    q, k, v = (t.tensor(normal((2, 5, 6)) * n) for n in (1, 2, 3))
    batch, query_sequence, key_sequence, heads, features = d.dims(5)
    heads.size = 3
    q = q[batch, query_sequence, [heads, features]]
    k = k[batch, key_sequence, [heads, features]]
    v = v[batch, key_sequence, [heads, features]]
    scores = (q * k).sum(features) * (features.size ** -0.5)
    probs = d.softmax(scores, dim=key_sequence)
    context = (probs * v).sum(key_sequence)
    return context.order(batch, query_sequence, [heads, features])


@case
def readme_puzzles(t, d, x):
    a = x["v"][:6]
    i, j = d.dims(sizes=[4, 4])
    eye = t.where(i == j, 1, 0).order(i, j)
    triu = t.where(i <= j, 1, 0).order(i, j)
    n = d.dims()
    an = a[n]
    diff = t.where(n - 1 >= 0, an - a[n - 1], an).order(n)
    v, m = d.dims(sizes=[2, None])
    vstack = t.where(v == 0, a[m], a[m] * 2).order(v, m)
    r = d.dims(sizes=[a.size(0)])
    roll = a[t.where(r + 1 < r.size, r + 1, 0)].order(r)
    f = d.dims(sizes=[a.size(0)])
    flip = a[f.size - f - 1].order(f)
    return eye, triu, diff, vstack, roll, flip


@case
def readme_sequence_mask(t, d, x):
    values = x["A"]
    length = t.tensor([1, 3, 4])
    j, i = d.dims()
    v = values[i, j]
    return t.where(j < length[i], v, 0).order(i, j)


@case
def readme_relative_positional_embedding(t, d, x):
    q = t.tensor(normal((2, 5, 6)))
    k = t.tensor(normal((2, 5, 6)) + 1)
    table = t.tensor(normal((11, 2)))
    batch, query_sequence, key_sequence, heads, features = d.dims(5)
    heads.size = 3
    q = q[batch, query_sequence, [heads, features]]
    k = k[batch, key_sequence, [heads, features]]
    distance = query_sequence - key_sequence
    embedding = table[distance + table.size(0) // 2, features]
    scores_query = (q * embedding).sum(features)
    scores_key = (k * embedding).sum(features)
    return (scores_query + scores_key).order(batch, heads, key_sequence, query_sequence)


@case
def fc_index_out_of_dims(t, d, x):
    batch, channel = d.dims()
    return x["A"][batch, channel][0]


@case
def fc_shape_len(t, d, x):
    i = d.dims()
    a = x["C"][i]
    return (tuple(a.shape), tuple(a.size()), len(a), a.dims == (i,), a.dtype == t.float64)


# Module-level functions given first-class tensors: through `__torch_function__`, a vmap level
# per first-class dim (functorch.dim's `__torch_function__`).
@case
def function_mm(t, d, x):
    i = d.dims()
    return t.mm(x["A"][i].unsqueeze(0), x["B"])


@case
def function_matmul(t, d, x):
    i, j = d.dims()
    return t.matmul(x["A"][i], x["B"][:, j])


@case
def function_einsum(t, d, x):
    i = d.dims()
    return t.einsum("k,kn->n", x["A"][i], x["B"])


@case
def function_linear(t, d, x):
    i = d.dims()
    return t.nn.functional.linear(x["A"][i], x["B"].T, x["B"][0])


@case
def function_dropout_eval(t, d, x):
    i = d.dims()
    return t.nn.functional.dropout(x["A"][i], 0.5, training=False)


@case
def function_cat(t, d, x):
    i = d.dims()
    return t.cat([x["A"][i], x["C"][i][:, 0]])


@case
def function_sum_and_softmax(t, d, x):
    i = d.dims()
    a = x["C"][i]
    return t.sum(a), t.softmax(a, -1), t.nn.functional.log_softmax(a, 0)


@case
def function_linalg_norm(t, d, x):
    i = d.dims()
    return t.linalg.vector_norm(x["C"][i], dim=-1)


@case
def function_rand_like_shape(t, d, x):
    i = d.dims()
    drawn = t.rand_like(x["C"][i])
    return drawn.dims == (i,), tuple(drawn.order(i).shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    expected = run(CASES[name], "torch")
    actual = run(CASES[name], "autodiff")
    assert_same(expected, actual)


# Cases whose tensors all come from the data (so all on the device under test); a Dim's range
# is made on the default device and moves to the device of the tensor it meets.
ON_DEVICE = ["attention", "diagonal", "dimpack", "dims_compare", "einsum_like", "fc_index",
             "matmul", "matmul_expand", "order_flatten", "plain_op_fc", "pointwise_levels",
             "reductions", "softmax_split", "sort_softmax", "split_dims", "stack_dims",
             "sum_of_dims", "tensor_index"]


@pytest.mark.parametrize("name", ON_DEVICE)
def test_on_device(name, device):
    expected = run(CASES[name], "torch")
    actual = run(CASES[name], "autodiff", device)
    assert_same(expected, actual)


# --------------------------------------------------------------------------- gradients
GRAD_CASES = {}


def grad_case(function):
    GRAD_CASES[function.__name__] = function
    return function


@grad_case
def grad_matmul(t, d, A, B):
    i, j, k = d.dims()
    return (A[i, k] * B[k, j]).sum(k).order(i, j)


@grad_case
def grad_diagonal_and_reductions(t, d, A, B):
    i, j = d.dims()
    S = B[0:3, 0:3]
    diag = S[i, i]
    row = A[i, j].softmax(j)
    return (diag * row).logsumexp(j).order(i) + A[i, j].max(j)[0].order(i)


@grad_case
def grad_index_pack(t, d, A, B):
    i, o, low = d.dims()
    o.size = 2
    r = A[i, [o, low]]
    return (r.exp() * r.sum(o)).order(low, i, o)


@grad_case
def grad_tensor_index(t, d, A, B):
    b, f = d.dims()
    ids = t.tensor([3, 0, 3, 1])
    return (B[ids[b], f] ** 2).order(b, f)


@grad_case
def grad_through_vmap_path(t, d, A, B):
    i = d.dims()
    a = A[i]
    return t.where(a > 0, a, a * 0.1).unsqueeze(0).mm(B).order(i)


@grad_case
def grad_expand_stack_split(t, d, A, B):
    i, j, s, x, y = d.dims()
    a = A[i, j]
    stacked = d.stack([a, a * 2], s)
    left, right = B[:, 0:3][j, i].split((x, y), dim=j)
    return (stacked.sum(s).expand(x) * left).sum(j).order(i, x) + right.sum(y).order(i)[:, None]


@grad_case
def grad_index_method(t, d, A, B):
    i, k = d.dims()
    return (A.index((0, 1), (i, k)) * B.index(0, k).sum(0)).order(k, i)


@pytest.mark.parametrize("name", sorted(GRAD_CASES))
def test_gradients_match_torch(name, device):
    results = {}
    for lib, (mod, dim_mod) in LIBS.items():
        where = device if lib == "autodiff" else "cpu"
        A = mod.tensor(DATA["A"], requires_grad=True, device=where)
        B = mod.tensor(DATA["B"], requires_grad=True, device=where)
        out = GRAD_CASES[name](mod, dim_mod, A, B)
        weights = mod.tensor(np.linspace(-1, 1, int(np.prod(tuple(out.shape)))).reshape(
            tuple(out.shape)), device=where)
        (out * weights).sum().backward()
        assert str(out.device) == where
        results[lib] = (np.asarray(out.detach().cpu().numpy()),
                        None if A.grad is None else A.grad.cpu().numpy(),
                        None if B.grad is None else B.grad.cpu().numpy())
    for expected, actual in zip(results["torch"], results["autodiff"]):
        if expected is None:
            assert actual is None
        else:
            np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-9)


def test_grad_fn_records_physical_ops():
    i, k = adim.dims()
    A = autodiff.tensor(DATA["A"], requires_grad=True)
    out = (A[i, k] * A[i, k]).sum(k).order(i)
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), 2 * DATA["A"])


def _matmul(a, b):
    i, j, k = adim.dims()
    return (a[i, k] * b[k, j]).sum(k).order(i, j)


def _diagonal_softmax(a, b):
    i, j = adim.dims()
    return (b[0:3, 0:3][i, i] * a[i, j].softmax(j)).logsumexp(j).order(i)


def _pack_and_flatten(a, b):
    i, o, low = adim.dims()
    o.size = 2
    r = a[i, [o, low]]
    return (r * r.sum(o)).order((low, i), o)


def _gather_and_vmap_path(a, b):
    rows, f = adim.dims()
    ids = autodiff.tensor([3, 0, 3])
    picked = b[ids[rows], f]
    return picked.unsqueeze(0).unsqueeze(0).expand(2, 1).sum(0).order(rows, f) * 1.5


def _stack_split(a, b):
    i, j, s, x, y = adim.dims()
    left, right = a[i, j].split((x, y), dim=j)
    return (adim.stack([left.sum(x), right.sum(y)], s) * i).order(s, i)


@pytest.mark.parametrize("function", [_matmul, _diagonal_softmax, _pack_and_flatten,
                                      _gather_and_vmap_path, _stack_split])
def test_gradcheck_and_gradgradcheck(function):
    a = autodiff.tensor(DATA["A"], requires_grad=True)
    b = autodiff.tensor(DATA["B"], requires_grad=True)
    assert autodiff.autograd.gradcheck(function, (a, b))
    assert autodiff.autograd.gradgradcheck(function, (a, b))


# --------------------------------------------------------------------------- autodiff's own
def test_bound_dim_must_fit():
    """functorch.dim's Python port binds `i` of size 3 to a dim of size 4 without a word (and
    makes a tensor whose `i` has two sizes); the dim's own check is applied here instead."""
    i = adim.dims()
    autodiff.zeros(3)[i]
    with pytest.raises(adim.DimensionBindError, match="previously bound to a dimension of "
                       "size 3 cannot bind to a dimension of size 4"):
        autodiff.zeros(4)[i]


def test_kthvalue_dim_after_k():
    """functorch.dim's port takes kthvalue's first argument (k) for the dim."""
    i, k = adim.dims()
    values = autodiff.tensor(DATA["A"])[i, k].kthvalue(2, k)[0]
    np.testing.assert_allclose(values.order(i).numpy(), np.sort(DATA["A"], axis=1)[:, 1])


def test_negative_dim_reduction():
    """`fc.mean(-1)` (an AssertionError in functorch.dim's port) reduces the last positional
    dim."""
    i = adim.dims()
    a = autodiff.tensor(DATA["C"])[i]
    np.testing.assert_allclose(a.mean(-1).order(i).numpy(), DATA["C"].mean(-1))


def test_plain_indexing_unchanged():
    A = autodiff.tensor(DATA["A"])
    assert isinstance(A[0, 1:3], autodiff.Tensor)
    assert not isinstance(A[0, 1:3], adim.Tensor)
    assert A[[0, 2]].shape == (2, 4)


def test_functions_and_methods_agree():
    """A module-level function given a first-class tensor (its `__torch_function__`) and the
    method form (calls.py's mirror) compute the same."""
    i = adim.dims()
    a = autodiff.tensor(DATA["A"])[i]
    b = autodiff.tensor(DATA["B"])
    function_form = autodiff.mm(a.unsqueeze(0), b)
    method_form = a.unsqueeze(0).mm(b)
    np.testing.assert_allclose(function_form.order(i).numpy(), method_form.order(i).numpy())
    np.testing.assert_allclose(function_form.order(i).numpy()[:, 0], DATA["A"] @ DATA["B"])


def test_function_gradients_reach_the_indexed_tensor():
    i = adim.dims()
    a = autodiff.tensor(DATA["A"], requires_grad=True)
    b = autodiff.tensor(DATA["B"], requires_grad=True)
    autodiff.matmul(a[i], b).sum().order(i).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.broadcast_to(DATA["B"].sum(1), (3, 4)))
    np.testing.assert_allclose(b.grad.numpy(), np.broadcast_to(DATA["A"].sum(0)[:, None],
                                                               (4, 5)))


def test_tensor_index_is_torchs():
    assert callable(autodiff.Tensor.index)
    k = adim.dims()
    r = autodiff.tensor(DATA["A"]).index(1, k)
    assert isinstance(r, adim.Tensor) and r.dims == (k,) and k.size == 4
    assert r.ndim == 1


def test_dim_is_a_tensor_of_its_range():
    i = adim.dims(sizes=[4])
    assert isinstance(i, adim.Dim) and isinstance(i, adim.Tensor.__mro__[1])
    np.testing.assert_array_equal((i + 0).order(i).numpy(), np.arange(4))


def test_docs_are_tensors():
    assert adim.Tensor.clamp.__doc__ == autodiff.Tensor.clamp.__doc__
    i, j = adim.dims(sizes=[3, 3])
    assert "order" in dir(i <= j)


def test_iteration_keeps_dims():
    i = adim.dims()
    rows = list(autodiff.tensor(DATA["A"])[i])
    assert len(rows) == 4 and all(row.dims == (i,) for row in rows)
    np.testing.assert_allclose(rows[2].order(i).numpy(), DATA["A"][:, 2])


def test_repr():
    i = adim.dims()
    r = autodiff.tensor([[1.0, 2.0], [3.0, 4.0]])[i]
    assert repr(r).endswith("with dims=(i, 0) sizes=(2, 2)")
    assert repr(i) == "i" and str(i) == "i"
