"""Writing a report figure: every plot script ends the same way."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def save_figure(figure: Figure, out: Path, dpi: int = 100) -> None:
    """Lay the figure out, write it to out (creating its folder), free it, and say where it went."""
    import matplotlib.pyplot as plt  # the caller has chosen the backend already

    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=dpi)
    plt.close(figure)
    print(f"wrote {out}")
