"""``emoethics plugins``: the installed plugins and what each registered."""

from __future__ import annotations

from .app import JsonOpt, app, out, print_json


@app.command()
def plugins(json_out: JsonOpt = False) -> None:
    """List the installed plugins (entry-point group emoethics.plugins) and the backends,
    analysers, guideline sets and emotion models each registered."""
    from ..plugins import GROUP, load_plugins

    found = load_plugins()
    if json_out:
        print_json([p.as_dict() for p in found])
        return
    if not found:
        out.print(f"no plugins installed (a package registers one under the '{GROUP}' entry-point group)")
    for p in found:
        parts = [
            f"{what} {', '.join(names)}"
            for what, names in (
                ("backends", p.backends),
                ("analysers", p.analyzers),
                ("guideline sets", p.guidelines),
                ("emotion models", p.emotion_models),
            )
            if names
        ]
        out.print(f"[bold]{p.name}[/] ({p.package} {p.version}): {'; '.join(parts) or 'nothing registered'}")
