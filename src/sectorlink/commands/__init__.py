"""CLI command modules. Each exposes ``register(app: typer.Typer) -> None``.

Commands stay thin: parse options, call one library function, print its result.
"""
