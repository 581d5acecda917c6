"""Renderers: the Jinja2 environment over a layout, the PDF magazine and the email newsletter."""
