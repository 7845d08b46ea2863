"""Loaders and official scoring of the published benchmarks: the paper's in-distribution training sets
(`distribution == "id"`) and its out-of-distribution test sets (`distribution == "ood"`).

Each reads a local copy of its publisher's release (see each task's `layout` and `how_to_get()`) from
`data_dir`, its `data_env` variable, or `$VISTA_DATA_DIR/<name>`."""

from .ai2d import AI2D
from .aokvqa import AOKVQA
from .base import Benchmark, DatasetFormatError, DatasetMissingError
from .chartqa import ChartQA
from .clevr import CLEVR, ClevrMath
from .docvqa import DocVQA, InfographicVQA
from .figureqa import FigureQA
from .geometry3k import Geometry3K
from .geoqa import GeoQA, UniGeo
from .iconqa import IconQA
from .mapqa import MapQA
from .mathv360k import MathV360K
from .mathvision import MathVision
from .mathvista import MathVista
from .plotqa import PlotQA
from .scienceqa import ScienceQA
from .tabmwp import TabMWP
from .thinkvl import ThinkVL
from .vizwiz import VizWiz

BENCHMARK_TASKS: list[Benchmark] = [
    FigureQA(), ChartQA(), Geometry3K(), GeoQA(), UniGeo(), MathVision(), MathV360K(), MapQA(), InfographicVQA(),
    ThinkVL(), VizWiz(), ScienceQA(), DocVQA(), CLEVR(), AOKVQA(),
    TabMWP(), AI2D(), PlotQA(), ClevrMath(), IconQA(), MathVista(),
]

__all__ = [
    "AI2D", "AOKVQA", "BENCHMARK_TASKS", "Benchmark", "CLEVR", "ChartQA", "ClevrMath", "DatasetFormatError",
    "DatasetMissingError", "DocVQA", "FigureQA", "GeoQA", "Geometry3K", "IconQA", "InfographicVQA", "MapQA",
    "MathV360K", "MathVision", "MathVista", "PlotQA", "ScienceQA", "TabMWP", "ThinkVL", "UniGeo", "VizWiz",
]
