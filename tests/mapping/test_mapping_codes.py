"""`bridge mapping codes`: the codes a system's records carry that its mapping does not map."""

from __future__ import annotations

import pytest

from tests.cli.test_cli import bridge
from tests.simulated import Sims

pytestmark = pytest.mark.e2e


def test_unmapped_category_codes_are_listed_with_counts_ready_to_paste(sims: Sims) -> None:
    """LAPOR! categories 15 (twice) and 436 are listed under [values.category] with counts."""
    for n, category in enumerate([15, 436, 15, 1]):
        sims.hub_state.insert_raw(
            {
                "title": f"Keluhan {n}",
                "content": "Isi keluhan",
                "disposition_id": 1001,
                "category_id": category,
            }
        )
    result = bridge("mapping", "codes", "lapor", "--config", str(sims.config_path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "[values.category]" in lines
    assert any(line.startswith('"15" = ""   # seen 2 times') for line in lines)
    assert any(line.startswith('"436" = ""   # seen 1 time:') for line in lines)
    assert not any(line.startswith('"1" =') for line in lines)
    assert "4 records of lapor read" in result.stdout
