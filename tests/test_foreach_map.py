"""torch._higher_order_ops.foreach_map, run eagerly as PyTorch's polyfill runs it."""

from __future__ import annotations

import autodiff
from autodiff._higher_order_ops.foreach_map import foreach_map


def test_maps_over_lists_with_scalars_repeated():
    xs = [autodiff.zeros(2), autodiff.ones(1)]
    assert [t.tolist() for t in foreach_map(lambda x: x + 1, xs)] == [[1.0, 1.0], [2.0]]
    (out,) = foreach_map(autodiff.lerp, [autodiff.zeros(2)], [autodiff.ones(2)], 0.5)
    assert out.tolist() == [0.5, 0.5]


def test_tuples_of_results_stay_tuples_and_the_shortest_list_decides():
    pairs = foreach_map(lambda x: (x, x + 1), (autodiff.zeros(1), autodiff.ones(1)))
    assert [[t.item() for t in pair] for pair in pairs] == [[0.0, 1.0], [1.0, 2.0]]
    out = foreach_map(autodiff.add, [autodiff.zeros(2)], [autodiff.ones(2)] * 2)
    assert len(out) == 1


def test_no_list_calls_op_once_and_keywords_reach_op():
    assert foreach_map(autodiff.add, autodiff.ones(1), 2.0).tolist() == [3.0]
    (out,) = foreach_map(autodiff.add, [autodiff.zeros(2)], [autodiff.ones(2)], alpha=2)
    assert out.tolist() == [2.0, 2.0]


def test_gradients_flow_through_the_calls():
    x = autodiff.ones(2, requires_grad=True)
    (out,) = foreach_map(lambda t: t * 3, [x])
    out.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
