"""The Gradio app: one module per tab over the stage functions (no core logic here).

``mimir.ui.app.build_app()`` builds the Blocks; ``python -m mimir app`` (``mimir.ui.launch``)
or the repository's ``app.py`` launches it. Importing this package does not import gradio.
"""
