# Adapted from pytorch/tutorials, beginner_source/data_loading_tutorial.py ("Writing Custom
# Datasets, DataLoaders and Transforms").
# Copyright (c) 2017-2022, PyTorch contributors. BSD-3-Clause: see NOTICE in this folder.
# Changed for autodiff's tests: `import autodiff as torch`; the prose and the matplotlib plots
# are left out; the faces download replaced by 12 random HxWx3 images of 30 to 50 pixels a
# side, saved as .npy files next to a face_landmarks.csv of 68 random landmarks each (written
# here); pandas' read_csv, skimage's io.imread and transform.resize, and torchvision's
# transforms.Compose replaced by a few lines each (the csv module, numpy.load, a
# nearest-neighbour resize); sizes shrunk (Rescale(32), RandomCrop(24), n = 5 instead of 65);
# num_workers=2 instead of 4; the batch grid (utils.make_grid) is left out; assertions at the
# end.
import csv
import os

# Ignore warnings
import warnings

import numpy as np

import autodiff as torch
from autodiff.utils.data import DataLoader, Dataset

warnings.filterwarnings("ignore")


# -- the data and the stand-ins for pandas, scikit-image and torchvision (added) --
def write_faces(root, count=12, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, 'face_landmarks.csv'), 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(['image_name'] + [f'part_{i}_{axis}' for i in range(68)
                                          for axis in 'xy'])
        for index in range(count):
            h, w = rng.integers(30, 51, size=2)
            name = f'face_{index}.npy'
            np.save(os.path.join(root, name), rng.random((h, w, 3)))
            points = np.stack([rng.integers(0, w, 68), rng.integers(0, h, 68)], 1)
            writer.writerow([name] + points.reshape(-1).tolist())


class Frame:
    """The little of a pandas DataFrame the tutorial uses: len and iloc[row, column]."""

    def __init__(self, rows):
        self.rows = rows
        self.iloc = self

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, key):
        row, column = key
        return self.rows[row][column]


def read_csv(path):
    with open(path) as file:
        rows = list(csv.reader(file))[1:]
    return Frame([[row[0]] + [int(value) for value in row[1:]] for row in rows])


class io:
    imread = staticmethod(np.load)


class transform:
    @staticmethod
    def resize(image, output_shape):
        """Nearest-neighbour resize of an HxWxC image to output_shape (skimage's is smoother)."""
        h, w = image.shape[:2]
        rows = (np.arange(output_shape[0]) * h / output_shape[0]).astype(int)
        columns = (np.arange(output_shape[1]) * w / output_shape[1]).astype(int)
        return image[rows][:, columns]


class transforms:
    class Compose:
        def __init__(self, transforms):
            self.transforms = transforms

        def __call__(self, sample):
            for t in self.transforms:
                sample = t(sample)
            return sample


pd = type('pd', (), {'read_csv': staticmethod(read_csv)})
write_faces('data/faces/')

# -- the tutorial --
landmarks_frame = pd.read_csv('data/faces/face_landmarks.csv')

n = 5
img_name = landmarks_frame.iloc[n, 0]
landmarks = np.asarray(landmarks_frame.rows[n][1:])
landmarks = landmarks.astype('float').reshape(-1, 2)

print('Image name: {}'.format(img_name))
print('Landmarks shape: {}'.format(landmarks.shape))
print('First 4 Landmarks: {}'.format(landmarks[:4]))


class FaceLandmarksDataset(Dataset):
    """Face Landmarks dataset."""

    def __init__(self, csv_file, root_dir, transform=None):
        """
        Args:
            csv_file (string): Path to the csv file with annotations.
            root_dir (string): Directory with all the images.
            transform (callable, optional): Optional transform to be applied
                on a sample.
        """
        self.landmarks_frame = pd.read_csv(csv_file)
        self.root_dir = root_dir
        self.transform = transform

    def __len__(self):
        return len(self.landmarks_frame)

    def __getitem__(self, idx):
        if torch.is_tensor(idx):
            idx = idx.tolist()

        img_name = os.path.join(self.root_dir,
                                self.landmarks_frame.iloc[idx, 0])
        image = io.imread(img_name)
        landmarks = self.landmarks_frame.rows[idx][1:]
        landmarks = np.array([landmarks])
        landmarks = landmarks.astype('float').reshape(-1, 2)
        sample = {'image': image, 'landmarks': landmarks}

        if self.transform:
            sample = self.transform(sample)

        return sample


face_dataset = FaceLandmarksDataset(csv_file='data/faces/face_landmarks.csv',
                                    root_dir='data/faces/')

for i in range(len(face_dataset)):
    sample = face_dataset[i]

    print(i, sample['image'].shape, sample['landmarks'].shape)

    if i == 3:
        break


class Rescale(object):
    """Rescale the image in a sample to a given size."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']

        h, w = image.shape[:2]
        if isinstance(self.output_size, int):
            if h > w:
                new_h, new_w = self.output_size * h / w, self.output_size
            else:
                new_h, new_w = self.output_size, self.output_size * w / h
        else:
            new_h, new_w = self.output_size

        new_h, new_w = int(new_h), int(new_w)

        img = transform.resize(image, (new_h, new_w))

        # h and w are swapped for landmarks because for images,
        # x and y axes are axis 1 and 0 respectively
        landmarks = landmarks * [new_w / w, new_h / h]

        return {'image': img, 'landmarks': landmarks}


class RandomCrop(object):
    """Crop randomly the image in a sample."""

    def __init__(self, output_size):
        assert isinstance(output_size, (int, tuple))
        if isinstance(output_size, int):
            self.output_size = (output_size, output_size)
        else:
            assert len(output_size) == 2
            self.output_size = output_size

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']

        h, w = image.shape[:2]
        new_h, new_w = self.output_size

        top = np.random.randint(0, h - new_h)
        left = np.random.randint(0, w - new_w)

        image = image[top: top + new_h,
                      left: left + new_w]

        landmarks = landmarks - [left, top]

        return {'image': image, 'landmarks': landmarks}


class ToTensor(object):
    """Convert ndarrays in sample to Tensors."""

    def __call__(self, sample):
        image, landmarks = sample['image'], sample['landmarks']

        # swap color axis because
        # numpy image: H x W x C
        # torch image: C X H X W
        image = image.transpose((2, 0, 1))
        return {'image': torch.from_numpy(image),
                'landmarks': torch.from_numpy(landmarks)}


scale = Rescale(32)
crop = RandomCrop(16)
composed = transforms.Compose([Rescale(32),
                               RandomCrop(24)])

# Apply each of the above transforms on sample.
sample = face_dataset[5]
shapes = []
for i, tsfrm in enumerate([scale, crop, composed]):
    transformed_sample = tsfrm(sample)
    print(type(tsfrm).__name__, transformed_sample['image'].shape)
    shapes.append(transformed_sample['image'].shape)

transformed_dataset = FaceLandmarksDataset(csv_file='data/faces/face_landmarks.csv',
                                           root_dir='data/faces/',
                                           transform=transforms.Compose([
                                               Rescale(32),
                                               RandomCrop(24),
                                               ToTensor()
                                           ]))

for i in range(len(transformed_dataset)):
    sample = transformed_dataset[i]

    print(i, sample['image'].size(), sample['landmarks'].size())

    if i == 3:
        break

dataloader = DataLoader(transformed_dataset, batch_size=4,
                        shuffle=True, num_workers=2)

batches = []
for i_batch, sample_batched in enumerate(dataloader):
    print(i_batch, sample_batched['image'].size(),
          sample_batched['landmarks'].size())
    batches.append(sample_batched)

    # observe 4th batch and stop.
    if i_batch == 3:
        break

# -- checks (added for the tests) --
assert img_name == 'face_5.npy' and landmarks.shape == (68, 2)
h, w = face_dataset[5]['image'].shape[:2]
short = (32, int(32 * w / h)) if h <= w else (int(32 * h / w), 32)
assert shapes[0][:2] == short and shapes[1] == (16, 16, 3) and shapes[2] == (24, 24, 3), shapes
assert len(batches) == 3  # 12 faces, 4 a batch
for batch in batches:
    assert sorted(batch) == ['image', 'landmarks']
    assert tuple(batch['image'].shape) == (4, 3, 24, 24), batch['image'].shape
    assert tuple(batch['landmarks'].shape) == (4, 68, 2)
    assert batch['image'].dtype == torch.float64 and batch['landmarks'].dtype == torch.float64
    assert type(batch['image']) is torch.Tensor
sample = transformed_dataset[torch.tensor(2)]  # a tensor index, as __getitem__ allows
assert tuple(sample['image'].shape) == (3, 24, 24)
