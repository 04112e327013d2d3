# The two commands a newcomer needs. Each sets up whatever is missing first.
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

# `make run PORT=8000` serves on another port; so does GRADIO_SERVER_PORT=8000 (PORT wins).
PORT ?=

.PHONY: run test

run:  ## set up, then start the chat at http://127.0.0.1:7860 (builds the index first if needed)
	@scripts/setup.sh run
	.venv/bin/python app.py $(if $(PORT),--port $(PORT))

test:  ## set up, then run the whole test suite
	@scripts/setup.sh test
	.venv/bin/python -m pytest
