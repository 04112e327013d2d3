# The two commands a newcomer needs. Each sets up whatever is missing first.
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test

run:  ## set up, then answer the example question (the chat replaces this when it lands)
	@scripts/setup.sh run
	.venv/bin/python -m qa "Does Comindware share data with Salesforce?"

test:  ## set up, then run the whole test suite
	@scripts/setup.sh test
	.venv/bin/python -m pytest
