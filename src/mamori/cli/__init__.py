"""Command line: click commands the ``mamori`` group (``mamori.cli.main``) adds."""
