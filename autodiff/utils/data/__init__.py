"""`autodiff.utils.data` (torch.utils.data): datasets, samplers, `DataLoader` with worker
processes, collation, and DataPipes.

Where each lives, as in PyTorch: `dataset` (Dataset, IterableDataset, TensorDataset,
StackDataset, ConcatDataset, ChainDataset, Subset, random_split), `sampler`, `distributed`
(DistributedSampler), `dataloader` (DataLoader, get_worker_info), `_utils` (collate, fetch,
worker, pin_memory, transport), `datapipes`, `graph` and `graph_settings`. `Generator` is
autodiff's (torch.Generator), exported here too for older code.
"""

from ...generator import Generator
from ._utils.collate import default_collate, default_convert
from .dataloader import DataLoader, _DatasetKind, get_worker_info
from .datapipes._decorator import (
    argument_validation,
    functional_datapipe,
    guaranteed_datapipes_determinism,
    non_deterministic,
    runtime_validation,
    runtime_validation_disabled,
)
from .datapipes.datapipe import DataChunk, DFIterDataPipe, IterDataPipe, MapDataPipe
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .distributed import DistributedSampler
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DFIterDataPipe", "DataChunk",
    "DataLoader", "Dataset", "DistributedSampler", "Generator", "IterDataPipe",
    "IterableDataset", "MapDataPipe", "RandomSampler", "Sampler", "SequentialSampler",
    "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "_DatasetKind", "argument_validation", "default_collate", "default_convert",
    "functional_datapipe", "get_worker_info", "guaranteed_datapipes_determinism",
    "non_deterministic", "random_split", "runtime_validation", "runtime_validation_disabled",
]
