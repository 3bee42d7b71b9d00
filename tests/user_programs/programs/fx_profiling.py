# Adapted from pytorch/tutorials, intermediate_source/fx_profiling_tutorial.py ("(beta) Building
# a Simple CPU Performance Profiler with FX").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a small
# ResNet defined here (torchvision's BasicBlock layout, a few channels wide) on 2x3x32x32
# inputs stands in for torchvision's models.resnet18 on 5x3x224x224; the summary table is
# formatted here (the tutorial's `tabulate` package is not installed); assertions at the end.
import autodiff as torch
import autodiff.fx
import autodiff.nn as nn

torch.manual_seed(0)


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8), BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2), BasicBlock(16, 16))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer2(self.layer1(x))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class models:
    resnet18 = ResNet


rn18 = models.resnet18()
rn18.eval()

input = torch.randn(2, 3, 32, 32)
output = rn18(input)

import statistics
import time
from typing import Any, Dict, List

from autodiff.fx import Interpreter


def tabulate(rows, headers):
    table = [headers] + [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) for row in table]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


traced_rn18 = torch.fx.symbolic_trace(rn18)
print(traced_rn18.graph)


class ProfilingInterpreter(Interpreter):
    def __init__(self, mod : torch.nn.Module):
        gm = torch.fx.symbolic_trace(mod)
        super().__init__(gm)

        self.total_runtime_sec : List[float] = []
        self.runtimes_sec : Dict[torch.fx.Node, List[float]] = {}

    def run(self, *args) -> Any:
        t_start = time.time()
        return_val = super().run(*args)
        t_end = time.time()
        self.total_runtime_sec.append(t_end - t_start)
        return return_val

    def run_node(self, n : torch.fx.Node) -> Any:
        t_start = time.time()
        return_val = super().run_node(n)
        t_end = time.time()
        self.runtimes_sec.setdefault(n, [])
        self.runtimes_sec[n].append(t_end - t_start)
        return return_val

    def summary(self, should_sort : bool = False) -> str:
        node_summaries : List[List[Any]] = []
        mean_total_runtime = statistics.mean(self.total_runtime_sec)

        for node, runtimes in self.runtimes_sec.items():
            mean_runtime = statistics.mean(runtimes)
            pct_total = mean_runtime / mean_total_runtime * 100
            node_summaries.append(
                [node.op, str(node), mean_runtime, pct_total])

        if should_sort:
            node_summaries.sort(key=lambda s: s[2], reverse=True)

        headers : List[str] = [
            'Op type', 'Op', 'Average runtime (s)', 'Pct total runtime'
        ]
        return tabulate(node_summaries, headers=headers)


interp = ProfilingInterpreter(rn18)
interp.run(input)
print(interp.summary(True))

# -- checks (added for the tests) --
assert torch.allclose(interp.run(input), output, atol=1e-6)
assert len(interp.total_runtime_sec) == 2
assert len(interp.runtimes_sec) == len(traced_rn18.graph.nodes)
assert all(len(times) == 2 for times in interp.runtimes_sec.values())
ops = {node.op for node in traced_rn18.graph.nodes}
assert ops == {"placeholder", "call_module", "call_function", "output"}, ops
assert "flatten = torch.flatten(avgpool, 1);  avgpool = None" in traced_rn18.code
summary = interp.summary(True).splitlines()
assert summary[0].split()[:2] == ["Op", "type"] and len(summary) == len(interp.runtimes_sec) + 2
