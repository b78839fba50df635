"""The web interface: FastAPI routes, Jinja2 templates and static assets."""
