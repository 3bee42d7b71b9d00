# Adapted from pytorch/tutorials, beginner_source/linear_regression_tutorial.py
# ("Linear Regression in PyTorch Tutorial").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose is left out; the initial
# weights set (the tutorial's come from the random stream), so the numbers are PyTorch's; CHECK
# lines and assertions at the end.
import autodiff as torch
from autodiff import nn, tensor

# x_data is the independent variable, y_data the target variable to be learned.
x_data = tensor([[1.0], [7.0], [3.0], [5.0]])
y_data = tensor([[2.0], [3.0], [7.0], [7.0]])

# We need to set up a model class
class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = self.linear(x)
        return y_pred


# Instantiate model class from above
model = Model()
with torch.no_grad():
    model.linear.weight.fill_(0.5)
    model.linear.bias.fill_(-0.25)

criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

losses = []
for epoch in range(100):
    # Complete forward pass, set our gradient to zero since it will accumulate otherwise
    y_pred = model(x_data)
    optimizer.zero_grad()

    # Compute loss
    loss = criterion(y_pred, y_data)
    losses.append(loss.item())

    # Backward pass, update optimizer parameter given current gradient.
    loss.backward()
    optimizer.step()


# After training, test with a novel x_value
x = tensor([[5.0]])
y_pred = model(x)
print("Prediction:", y_pred.data[0][0])

assert losses[-1] < losses[0]
print("CHECK first_loss", f"{losses[0]:.6g}")
print("CHECK last_loss", f"{losses[-1]:.6g}")
print("CHECK weight", f"{model.linear.weight.item():.6g}")
print("CHECK bias", f"{model.linear.bias.item():.6g}")
print("CHECK prediction", f"{y_pred.item():.6g}")
