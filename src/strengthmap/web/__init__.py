"""Server-rendered pages (Jinja2) over the library; vendored static files with their licences."""
