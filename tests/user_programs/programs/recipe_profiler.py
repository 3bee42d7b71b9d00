# Adapted from pytorch/tutorials, recipes_source/recipes/profiler_recipe.py ("PyTorch
# Profiler").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; a small
# ResNet defined here (torchvision's BasicBlock layout, a few channels wide) on 2x3x32x32
# inputs stands in for torchvision's models.resnet18 on 5x3x224x224; ACTIVITIES holds CUDA only
# where there is CUDA, and the CUDA-only sections run on the CPU; files go to the working
# folder instead of /tmp; assertions at the end.
import json
import os

import autodiff as torch
import autodiff.nn as nn
from autodiff.profiler import ProfilerActivity, profile, record_function

ACTIVITIES = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if torch.cuda.is_available() else [])


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


model = models.resnet18()
inputs = torch.randn(2, 3, 32, 32)

with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
    with record_function("model_inference"):
        model(inputs)

print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
time_table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=10)
averages = {event.key: event for event in prof.key_averages()}

print(prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total", row_limit=10))
shapes_table = prof.key_averages(group_by_input_shape=True).table(sort_by="cpu_time_total",
                                                                  row_limit=10)

with profile(activities=ACTIVITIES, record_shapes=True) as prof:
    with record_function("model_inference"):
        model(inputs)

print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))

model = models.resnet18()
inputs = torch.randn(2, 3, 32, 32)

with profile(activities=[ProfilerActivity.CPU],
        profile_memory=True, record_shapes=True) as prof:
    model(inputs)

print(prof.key_averages().table(sort_by="self_cpu_memory_usage", row_limit=10))
print(prof.key_averages().table(sort_by="cpu_memory_usage", row_limit=10))
memory_table = prof.key_averages().table(sort_by="cpu_memory_usage", row_limit=10)

with profile(activities=ACTIVITIES) as prof:
    model(inputs)

prof.export_chrome_trace("trace.json")

with profile(
    activities=ACTIVITIES,
    with_stack=True,
) as prof:
    model(inputs)

# Print aggregated stats
print(prof.key_averages(group_by_stack_n=5).table(sort_by="self_cpu_time_total", row_limit=2))
stack_table = prof.key_averages(group_by_stack_n=5).table(sort_by="self_cpu_time_total",
                                                          row_limit=2)

prof.export_stacks("profiler_stacks.txt", "self_cpu_time_total")

from autodiff.profiler import schedule

my_schedule = schedule(
    skip_first=10,
    wait=5,
    warmup=1,
    active=3,
    repeat=2)

handled = []


def trace_handler(p):
    output = p.key_averages().table(sort_by="self_cpu_time_total", row_limit=10)
    print(output)
    p.export_chrome_trace("trace_" + str(p.step_num) + ".json")
    handled.append(p.step_num)

with profile(
    activities=ACTIVITIES,
    schedule=torch.profiler.schedule(
        wait=1,
        warmup=1,
        active=2),
    on_trace_ready=trace_handler
) as p:
    for idx in range(8):
        model(inputs)
        p.step()

# -- checks (added for the tests) --
assert "model_inference" in time_table and "aten::conv2d" in time_table, time_table
assert "Self CPU time total:" in time_table and "# of Calls" in time_table
assert averages["aten::conv2d"].count == 10, averages["aten::conv2d"].count
assert averages["model_inference"].count == 1
assert averages["model_inference"].cpu_time_total >= averages["aten::conv2d"].cpu_time_total
assert "Input Shapes" in shapes_table and "[2, 3, 32, 32]" in shapes_table, shapes_table
assert "CPU Mem" in memory_table and "Self CPU Mem" in memory_table, memory_table
with open("trace.json") as f:
    trace = json.load(f)
names = {event.get("name") for event in trace["traceEvents"]}
assert "aten::conv2d" in names, sorted(names)[:20]
assert os.path.exists("profiler_stacks.txt")
assert [my_schedule(step).name for step in (0, 14, 15, 16, 18, 19, 25, 30)] == [
    "NONE", "NONE", "WARMUP", "RECORD", "RECORD_AND_SAVE", "NONE", "RECORD",
    "NONE"], [my_schedule(step).name for step in (0, 14, 15, 16, 18, 19, 25, 30)]
assert handled == [4, 8], handled
assert os.path.exists("trace_4.json") and os.path.exists("trace_8.json")
