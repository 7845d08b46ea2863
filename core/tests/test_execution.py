import vista
from PIL import Image
from vista.errors import ErrorClass
from vista.tool import ToolContext


def image():
    return Image.new("RGB", (40, 30), "red")


def test_valid_call_runs_and_adds_returned_images(tools):
    ctx = ToolContext([image()])
    result = vista.call_tool("crop", {"bbox": [0, 0, 10, 5]}, ctx, tools=tools)
    assert result.ok and result.data == {"width": 10, "height": 5}
    assert result.image_names == ["image_1"] and ctx.image("image_1").size == (10, 5)
    again = vista.call_tool("crop", {"image": "image_1", "bbox": [0, 0, 5, 5]}, ctx, tools=tools)
    assert again.ok and again.image_names == ["image_2"]


def test_e4_semantic_error_from_the_tool(tools):
    result = vista.call_tool("crop", {"bbox": [0, 0, 100, 5]}, [image()], tools=tools)
    assert not result.ok and result.error.error_class is ErrorClass.E4
    assert result.error.argument == "bbox" and "outside the 40x30 image" in result.error.message


def test_e4_for_an_image_that_does_not_exist(tools):
    result = vista.call_tool("crop", {"image": "image_7", "bbox": [0, 0, 1, 1]}, [image()], tools=tools)
    assert result.error.error_class is ErrorClass.E4 and "image_0" in result.error.message


def test_e5_output_schema_violation(tools):
    result = vista.call_tool("broken_output", {}, tools=tools)
    assert result.error.error_class is ErrorClass.E5 and "broken_output" in result.error.message


def test_crash_becomes_tool_failure_result(tools):
    result = vista.call_tool("crashing", {}, tools=tools)
    assert not result.ok and result.error.error_class is ErrorClass.TOOL_FAILURE
    assert "RuntimeError" in result.error.message


def test_validation_errors_come_back_as_results(tools):
    result = vista.call_tool("scale", {"value": 1, "factor": 99}, tools=tools)
    assert result.error.error_class is ErrorClass.E3 and result.text == result.error.message


def test_result_round_trips_through_json_with_images(tools):
    result = vista.call_tool("crop", {"bbox": [0, 0, 4, 4]}, [image()], tools=tools)
    back = vista.ToolResult.model_validate_json(result.model_dump_json())
    assert back.images[0].size == (4, 4) and back.images[0].getpixel((0, 0)) == (255, 0, 0)


class SlowCrop(vista.Tool):
    """Returns a crop, after ``delay`` seconds; ``finished`` is set when a call has returned its result."""

    name = "slow_crop"
    description = "A crop that takes its time."

    class Arguments(vista.ToolArguments):
        delay: float

    def __init__(self):
        import threading

        self.finished = threading.Event()

    def run(self, args, ctx):
        import time

        time.sleep(args.delay)
        try:
            return vista.ToolResult(text="cropped", images=[ctx.image().crop((0, 0, 5, 5))])
        finally:
            self.finished.set()


def test_a_call_that_finishes_after_its_timeout_adds_no_image(tools):
    import asyncio
    import time

    from vista.execution import ToolExecutor
    from vista.protocol import ToolCall
    from vista.validation import validate_call

    tool = SlowCrop()
    executor = ToolExecutor(timeout_s=0.2)
    late, _ = validate_call(ToolCall(name="slow_crop", arguments={"delay": 0.6}), {tool.name: tool})
    quick, _ = validate_call(ToolCall(name="slow_crop", arguments={"delay": 0.0}), {tool.name: tool})
    for run in (executor.run, lambda call, ctx: asyncio.run(executor.arun(call, ctx))):
        ctx = ToolContext([image()])
        tool.finished.clear()
        result = run(late, ctx)
        assert result.error.error_class is ErrorClass.TOOL_FAILURE and result.error.code == "timeout"
        assert tool.finished.wait(timeout=30)  # the abandoned call has returned its image, too late
        time.sleep(0.05)  # and the executor has had the moment it takes to drop it
        assert ctx.image_names == ["image_0"]
        assert run(quick, ctx).image_names == ["image_1"]  # the next image gets the next name the episode expects
    executor.close()
