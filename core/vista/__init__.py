"""vista-gym core: contracts, plugin registry, protocol, validation and the environment.

    import vista
    vista.load_plugins("all")            # or "chart,math"; default $VISTA_PLUGINS or "all"
    vista.get_tools()["zoom"]            # name -> Tool
    vista.call_tool("zoom", {"factor": 2}, images=["chart.png"])
"""

from .env import VistaEnv
from .errors import (
    TAXONOMY,
    ClassifiedError,
    ErrorClass,
    ToolArgumentError,
    ToolUnavailableError,
    VistaError,
)
from .execution import call_tool
from .hookspecs import hookimpl
from .images import ImageStore, open_image
from .plugins import (
    PluginLoadError,
    RegistrationError,
    Registry,
    get_registry,
    get_rewards,
    get_tasks,
    get_tools,
    load_plugins,
)
from .protocol import ToolCall, parse_call, parse_turn
from .reward import Reward, RewardResult
from .runner import EpisodeRunner, EpisodeSpec
from .task import CATEGORIES, DataStatus, Example, OracleSolution, OracleStep, Task
from .tool import ImageName, Tool, ToolArguments, ToolContext, ToolResult
from .trajectory import Trajectory
from .trajectory_log import TrajectoryLog
from .validation import parse_and_validate, validate_call

__all__ = [
    "CATEGORIES", "ClassifiedError", "DataStatus", "EpisodeRunner", "EpisodeSpec", "ErrorClass", "Example", "ImageName",
    "ImageStore", "OracleSolution", "OracleStep", "PluginLoadError", "RegistrationError", "Registry", "Reward",
    "RewardResult", "TAXONOMY", "Task", "Tool", "ToolArgumentError", "ToolArguments", "ToolCall", "ToolContext",
    "ToolResult", "ToolUnavailableError", "Trajectory", "TrajectoryLog", "VistaEnv", "VistaError", "call_tool",
    "get_registry", "get_rewards", "get_tasks", "get_tools", "hookimpl", "load_plugins", "open_image",
    "parse_and_validate", "parse_call", "parse_turn", "validate_call",
]
