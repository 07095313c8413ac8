"""Where the private pseudonym maps are kept: `$COLLECTOR_HOME/private-maps`, else the user state directory.

Never the directory a bundle is written to: a glob upload (`bundles/*`) would send the map with it.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import BundleError
from ..paths import state_dir


def map_dir_for(out_dir: Path, map_dir: Path | None) -> Path:
    """The directory the private map goes to; refuses the bundle's own directory or one inside it."""
    chosen = map_dir if map_dir is not None else state_dir() / "private-maps"
    here, out = chosen.expanduser().resolve(), out_dir.expanduser().resolve()
    if here == out or out in here.parents:
        raise BundleError(f"the private map would be written into the bundle directory {out_dir}",
                          hint="give --map-dir outside it (a glob upload would send the map), or leave the default")
    return chosen
