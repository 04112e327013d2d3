"""The web chat over ``qa.ask``: ``build_demo`` (Gradio Blocks), HTML rendering, uploads, launching."""
