# Adapted from pytorch/tutorials, beginner_source/autoencoders_tutorial.py
# ("Autoencoder: A Deep Dive").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the plots are left
# out; Fashion-MNIST and CIFAR-10 are replaced by small synthetic image sets of the same shapes
# (smooth random blobs in [0, 1]), loaded in the main process; the models' widths, the epochs
# and the batches are cut down; assertions at the end.
import numpy as np

import autodiff as torch
import autodiff.nn as nn
import autodiff.nn.functional as F

torch.manual_seed(0)
rng = np.random.default_rng(0)


def synthetic_images(count, channels, size):
    """Blurred random blobs in [0, 1]: images an autoencoder can learn to compress."""
    grid = np.linspace(-1, 1, size)
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((count, channels, size, size), dtype=np.float32)
    for index in range(count):
        for channel in range(channels):
            cx, cy = rng.uniform(-0.5, 0.5, 2)
            width = rng.uniform(0.2, 0.5)
            images[index, channel] = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / width ** 2)
    return torch.tensor(images), torch.zeros(count, dtype=torch.long)


def make_dataloader(data_, batch_size: int):
    """Helper function to convert datasets to batches."""
    batch_size = 32

    # Make the Data loader Object
    train_loader = torch.utils.data.DataLoader(
        data_, batch_size=batch_size, shuffle=True, num_workers=0, drop_last=True
    )

    return train_loader


def load_data_general(data_name: str):
    """Helper function to load the data."""
    if data_name == "mnist":
        data_ = torch.utils.data.TensorDataset(*synthetic_images(128, 1, 28))
    elif data_name == "cifar":
        data_ = torch.utils.data.TensorDataset(*synthetic_images(64, 3, 32))

    return data_


def load_batch_data(dataset_name: str):
    # Load data
    train_data = load_data_general(dataset_name)

    # Make batches of data
    data_loader = make_dataloader(data_=train_data, batch_size=32)

    return data_loader


def load_mnist_data():
    """Load the MNIST dataset and covert it to batches."""

    return load_batch_data("mnist")


def load_cifar_data():
    """Load the CIFAR10 dataset and covert it to batches."""

    return load_batch_data("cifar")

def make_model(model_object, lr_rate=0.001, compress_=None):
    """Make all of the needed objects for training."""
    if not compress_:
        model_ = model_object()
    else:
        model_ = model_object(compress_)
    optimizer_ = torch.optim.Adam(model_.parameters(), lr=lr_rate)
    loss_ = nn.MSELoss()

    return model_, optimizer_, loss_


def test_model(loader_obj, model_, linear=True):
    """Test the output of the autoencoder model (the tutorial shows the images)."""
    batch_iter = iter(loader_obj)
    batch_images = next(batch_iter)
    tmp_image = batch_images[0][0, 0, :, :]

    if linear:
        model_input = tmp_image.reshape(28 * 28)
    else:
        model_input = tmp_image.reshape(1, 1, 28, 28)

    model_.eval()
    with torch.inference_mode():
        output = model_(model_input)
    regenerated = output.detach().numpy().reshape(28, 28)
    assert regenerated.shape == (28, 28) and np.all((regenerated >= 0) & (regenerated <= 1))
    return float(((regenerated - tmp_image.numpy()) ** 2).mean())


train_losses = {}


def train_model(
    model_obj: nn.Module,
    optimizer_obj,
    loss_obj,
    loader_obj,
    batch_s: int,
    epoch_num: int = 1,
    model_linear=True,
) -> nn.Module:
    """Train the input model with optimizer and loss function."""
    train_loss = []
    model_obj.train()

    for epoch in range(epoch_num):
        for i, data_ in enumerate(loader_obj, 0):
            batches, targets = data_
            if model_linear:
                batches = batches.reshape([batch_s, 28 * 28])

            # zero the parameter gradients
            optimizer_obj.zero_grad()

            # Forward Pass
            logits = model_obj(batches)

            # Calculate the loss
            loss = loss_obj(logits, batches)

            # Backward Propagation
            loss.backward()
            optimizer_obj.step()

            # Append the loss of training
            train_loss.append(loss.item())

    train_losses[type(model_obj).__name__] = train_loss
    return model_obj


def add_noise(img_, noise_int: float) -> torch.Tensor:
    """Add noise to the given image."""
    noise = np.random.normal(loc=0, scale=1, size=img_.shape)

    # noise overlaid over image
    noisy = np.clip((img_.numpy() + noise * noise_int), 0, 1)
    noisy_tensor = torch.tensor(noisy, dtype=torch.float).reshape(1, 1, 28, 28)

    return noisy_tensor


def noisy_test(
    loader_obj, model_: nn.Module, linear: bool = True, noise_intensity: float = 0.2
):
    """Test the model by adding noise to the image."""
    batch_iter = iter(loader_obj)
    batch_images = next(batch_iter)
    tmp_image = batch_images[0][0, 0, :, :]

    noisy_img = add_noise(tmp_image, noise_intensity)
    assert noisy_img.reshape(28, 28).numpy().shape == (28, 28)

    if linear:
        model_input = noisy_img.reshape(28 * 28)
    else:
        model_input = noisy_img.reshape(1, 1, 28, 28)

    model_.eval()
    with torch.inference_mode():
        output = model_(model_input)
    assert output.shape == (1, 1, 28, 28) and not output.requires_grad
    return output


def test_cifar(cifar_model, data_loader_):
    """Test the CIFAR model"""
    dataiter = iter(data_loader_)
    images, labels = next(dataiter)

    cifar_model.eval()
    with torch.inference_mode():
        out_batch = cifar_model(images)
    assert out_batch.shape == images.shape
    return out_batch


batch_size = 32

train_loader = load_mnist_data()

for i, data_ in enumerate(train_loader):
    print(i, data_[0].shape)
    if i==10:
        break

for i, data_ in enumerate(train_loader):
    assert data_[0][i, :, :].view(28, 28).shape == (28, 28)
    if i==3:
        break


class AutoencoderLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear_en_1 = nn.Linear(in_features=28*28, out_features=196)
        self.linear_en_2 = nn.Linear(in_features=196, out_features=98)
        self.linear_de_1 = nn.Linear(in_features=98, out_features=196)
        self.linear_de_2 = nn.Linear(in_features=196, out_features=28*28)

    def forward(self, x):
        encode_1 = F.leaky_relu(self.linear_en_1(x))
        encode_2 = F.leaky_relu(self.linear_en_2(encode_1))
        decode_1 = F.leaky_relu(self.linear_de_1(encode_2))
        decode_2 = F.sigmoid(self.linear_de_2(decode_1))
        return decode_2

model_aal, optimizer, loss_fn = make_model(AutoencoderLinear)

before = test_model(train_loader, model_aal)

model_aal = train_model(model_aal, optimizer, loss_fn, train_loader, batch_size, epoch_num=10)

after = test_model(train_loader, model_aal)
print(f"linear autoencoder: reconstruction error {before:.4f} -> {after:.4f}")


class AutoencoderLinearA(nn.Module):
    def __init__(self, compress_nodes):
        super().__init__()
        self.linear_en_1 = nn.Linear(in_features=28*28, out_features=196)
        self.linear_en_2 = nn.Linear(in_features=196, out_features=98)
        self.linear_de_1 = nn.Linear(in_features=98, out_features=196)
        self.linear_de_2 = nn.Linear(in_features=196, out_features=28*28)
        self.linear_en_c = nn.Linear(in_features=98, out_features=compress_nodes)
        self.linear_de_c = nn.Linear(in_features=compress_nodes, out_features=98)

    def forward(self, x):
        encode_1 = F.leaky_relu(self.linear_en_1(x))
        encode_2 = F.leaky_relu(self.linear_en_2(encode_1))
        encode_c = self.linear_en_c(encode_2)
        decode_c = self.linear_de_c(encode_c)
        decode_1 = F.leaky_relu(self.linear_de_1(decode_c))
        decode_2 = F.sigmoid(self.linear_de_2(decode_1))
        return decode_2

model_aala, optimizer, loss_fn = make_model(AutoencoderLinearA, compress_=10)
model_aala = train_model(model_aala, optimizer, loss_fn, train_loader, batch_size, epoch_num=10)

test_model(model_=model_aala, loader_obj=train_loader)


# Build the Autoencoder with CNN using the sequential method from pytorch
class AutoencoderCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels=1, out_channels=4, kernel_size=(5,5), stride=(1,1)),
            nn.LeakyReLU(),
            nn.Conv2d(in_channels=4, out_channels=8, kernel_size=(5,5), stride=(1,1)),
            nn.LeakyReLU(),
            nn.Conv2d(in_channels=8, out_channels=16, kernel_size=(2,2), stride=(2,2)),
            nn.LeakyReLU(),
            nn.Flatten(),
            nn.Linear(in_features=16*10*10, out_features=144)
        )
        self.decoder = nn.Sequential(
            nn.Linear(in_features=144, out_features=16*10*10),
            nn.Unflatten(1, (16, 10, 10)),
            nn.ConvTranspose2d(in_channels=16, out_channels=8, kernel_size=(2,2), stride=(2,2)),
            nn.LeakyReLU(),
            nn.ConvTranspose2d(in_channels=8, out_channels=4, kernel_size=(5,5), stride=(1,1)),
            nn.LeakyReLU(),
            nn.ConvTranspose2d(in_channels=4, out_channels=1, kernel_size=(5,5), stride=(1,1)),
            nn.Sigmoid()
        )

    def forward(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded

model_cnn, optimizer, loss_fn = make_model(AutoencoderCNN)
model_cnn = train_model(model_cnn, optimizer, loss_fn, train_loader, batch_size, epoch_num=3,
                        model_linear=False)

test_model(train_loader, model_cnn, linear=False)

batch_iter = iter(train_loader)
batch_images = next(batch_iter)
tmp_image = batch_images[0][0, 0, :, :]
enc_output = model_cnn.encoder(tmp_image.reshape(1, 1, 28, 28))

# We have 144 Nodes so we can derive a 12*12 picture from it.
assert enc_output.detach().numpy().reshape(12, 12).shape == (12, 12)

noisy_test(train_loader, model_cnn, linear=False, noise_intensity=0.3)

cifar_loader = load_cifar_data()

assert len(cifar_loader.dataset) == 64

dataiter = iter(cifar_loader)
images, labels = next(dataiter)
assert images.shape == (32, 3, 32, 32)

class AutoencoderCNNCIF(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(in_channels=3, out_channels=4, kernel_size=(4,4), stride=(1,1), padding=2),
            nn.LeakyReLU(),
            nn.Conv2d(in_channels=4, out_channels=8, kernel_size=(5,5), stride=(2,2), padding=2),
            nn.LeakyReLU(),
            nn.Conv2d(in_channels=8, out_channels=16, kernel_size=(5,5), stride=(1,1)),
            nn.LeakyReLU(),
            nn.Conv2d(in_channels=16, out_channels=32, kernel_size=(3,3), stride=(2,2)),
            nn.LeakyReLU(),
            nn.Flatten(),
            nn.Linear(in_features=32*6*6, out_features=100)
        )
        self.decoder = nn.Sequential(
            nn.Linear(in_features=100, out_features=32*6*6),
            nn.Unflatten(1, (32, 6, 6)),
            nn.ConvTranspose2d(in_channels=32, out_channels=16, kernel_size=(3,3), stride=(2,2)),
            nn.LeakyReLU(),
            nn.ConvTranspose2d(in_channels=16, out_channels=8, kernel_size=(5,5), stride=(1,1)),
            nn.LeakyReLU(),
            nn.ConvTranspose2d(in_channels=8, out_channels=4, kernel_size=(5,5), stride=(2,2),
                               padding=2),
            nn.LeakyReLU(),
            nn.ConvTranspose2d(in_channels=4, out_channels=3, kernel_size=(4,4), stride=(1,1),
                               padding=2),
            nn.Sigmoid()
        )

    def forward(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded

model_cifar, optimizer_cifar, loss_cifar = make_model(AutoencoderCNNCIF, .001)
model_cifar = train_model(model_cifar, optimizer_cifar, loss_cifar, cifar_loader, 32, 3, False)

test_cifar(model_cifar, cifar_loader)

for name, losses in train_losses.items():
    print(f"{name}: loss {losses[0]:.4f} -> {losses[-1]:.4f} over {len(losses)} steps")
    assert all(np.isfinite(losses)), name
assert train_losses["AutoencoderLinear"][-1] < train_losses["AutoencoderLinear"][0]
assert train_losses["AutoencoderLinearA"][-1] < train_losses["AutoencoderLinearA"][0]
assert train_losses["AutoencoderCNN"][-1] < train_losses["AutoencoderCNN"][0]
assert after < before
