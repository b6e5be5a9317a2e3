"""The app's `flask` command group: the command-line tooling is imported only when a command runs."""
from flask.cli import AppGroup


class LazyCommands(AppGroup):
    """`app.cli` whose commands (apps/api/tools/cli.py) load on first use, never in a server process."""

    def _tools(self):
        from .tools.cli import COMMANDS

        return COMMANDS

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._tools()))

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._tools().get(name)
