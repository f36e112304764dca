"""What a report built after a failed or unfinished run lacks: the note listing every output that is not
there (``report_missing.md``), so a partial report says so on its first entry instead of failing."""

from __future__ import annotations

from pathlib import Path


def write_missing_note(path, missing) -> Path:
    """Write ``path``: the outputs ``missing`` from the report, or that none is."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = sorted(dict.fromkeys(str(m) for m in missing))
    if not missing:
        text = "# Outputs of this report\n\nEvery output the workflow shows in its report was there.\n"
    else:
        lines = "".join(f"- `{m}`\n" for m in missing)
        text = (
            f"# This report is incomplete: {len(missing)} outputs are missing\n\n"
            "The run that made these results did not finish (a failed or killed job, or targets run alone). "
            "The report shows what exists; these outputs are not in it. Rerun the workflow "
            "(`snakemake --cores N`, with your config) to make them, then build the report again.\n\n" + lines
        )
    path.write_text(text)
    return path
