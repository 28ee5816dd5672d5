"""``strengthmap users``: create, list and disable accounts (calls ``strengthmap.accounts``)."""

from __future__ import annotations

import sys

import typer

from strengthmap import accounts
from strengthmap.cli.common import console, print_json, state
from strengthmap.errors import InputError

app = typer.Typer(help="User accounts: create, list, disable.", no_args_is_help=True)


@app.command("create")
def create_user(
    ctx: typer.Context,
    email: str = typer.Argument(..., help="The user's email address (their login)."),
    role: str = typer.Option("viewer", "--role", help="viewer | editor | commissioner | admin"),
    name: str | None = typer.Option(None, "--name", help="Display name."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (for scripts)."
    ),
) -> None:
    """Create an account (``accounts.create_user``); asks for the password unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InputError("no password given", field="password")
    user = accounts.create_user(
        state(ctx).store(), email, password=password, role=role, display_name=name
    )
    console.print(f"created {user.email} ({user.role})")


@app.command("list")
def list_users(
    ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")
) -> None:
    """Every account with its role and status (``accounts.list_users``)."""
    users = accounts.list_users(state(ctx).store())
    if as_json:
        print_json(
            [
                {
                    "email": u.email,
                    "role": u.role,
                    "display_name": u.display_name,
                    "disabled": u.disabled,
                    "created_at": u.created_at,
                }
                for u in users
            ]
        )
        return
    for u in users:
        console.print(
            f"{u.email}\t{u.role}\t{'disabled' if u.disabled else 'active'}", highlight=False
        )


@app.command("disable")
def disable_user(ctx: typer.Context, email: str = typer.Argument(..., help="The account.")) -> None:
    """Disable an account and end its sessions (``accounts.disable_user``)."""
    user = accounts.disable_user(state(ctx).store(), email)
    console.print(f"disabled {user.email}")
