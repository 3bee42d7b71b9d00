"""`autodiff.utils`: data loading (`autodiff.utils.data`)."""

from . import data
