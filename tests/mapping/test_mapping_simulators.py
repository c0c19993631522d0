"""The shipped mappings read what the simulators serve, and write payloads the simulators accept."""

from __future__ import annotations

from bridge.mapping import Mapping
from bridge.model import Complaint, FollowUp, Status
from bridge.testing.simulators.lapor import render_detail, render_followup, render_summary
from bridge.testing.simulators.lapor_state import LaporState
from bridge.testing.simulators.sidumas_state import SidumasState


def _complaint() -> Complaint:
    return Complaint(
        source_id="x1",
        title="Sampah menumpuk",
        content="Di pinggir sungai dekat pasar.",
        category="lingkungan",
        reporter={"name": "Wayan", "phone": "0813", "email": "wayan@example.id"},
        location={"lat": -8.79, "lng": 115.16, "address": "Jimbaran"},
        is_secret=True,
        tags=("sampah", "lb0123456789abcdef"),
    )


def test_every_seeded_sidumas_record_maps(sidumas: Mapping) -> None:
    """Seeded SIDUMAS records, follow-ups included, all become canonical complaints."""
    state = SidumasState()
    state.seed(30)
    complaints = [sidumas.to_canonical(record) for record in state.records]
    assert len(complaints) == 30
    assert all(c.status is not None and c.created_at is not None for c in complaints)
    assert any(c.followups for c in complaints)


def test_sidumas_accepts_the_mapped_payload(sidumas: Mapping) -> None:
    """pengaduan/add takes our payload, and the stored record maps back to the same fields."""
    state = SidumasState()
    stored = state.add(sidumas.to_native(_complaint()))
    back = sidumas.to_canonical(stored)
    assert (back.title, back.category, back.is_secret) == ("Sampah menumpuk", "lingkungan", True)
    assert back.reporter.name == "Wayan"
    assert (back.location.lat, back.location.address) == (-8.79, "Jimbaran")


def test_sidumas_keeps_the_bridge_reference_and_takes_status_and_followups(
    sidumas: Mapping,
) -> None:
    """ref_eksternal, pengaduan/status and a tanggapan written by the mapping all read back."""
    state = SidumasState()
    stored = state.add(sidumas.to_native(_complaint().model_copy(update={"ref": "lb00ff"})))
    state.set_status(stored["id"], sidumas.status_to_native(Status.IN_PROGRESS))
    reply = FollowUp(source_id="x", content="Sudah diangkut.", author="DLHK", is_official=True)
    state.add_tanggapan(stored["id"], sidumas.followup_to_native(reply))
    back = sidumas.to_canonical(state.find(stored["id"]))
    assert (back.ref, back.status) == ("lb00ff", Status.IN_PROGRESS)
    assert back.updated_at is not None
    assert [(f.content, f.author, f.is_official) for f in back.followups] == [
        ("Sudah diangkut.", "DLHK", True)
    ]


def test_every_seeded_lapor_record_maps(lapor: Mapping) -> None:
    """Seeded LAPOR! complaints map from both the summary and the detail, follow-ups too."""
    state = LaporState()
    state.seed_from_corpus(20)
    for record in state.complaints.values():
        summary = lapor.to_canonical(render_summary(record))
        detail = lapor.to_canonical(render_detail(record, state.docs))
        assert summary.status is not None
        assert detail.institution_name is not None
        assert summary.updated_at == detail.updated_at
        for followup in record["followups"]:
            assert lapor.followup_to_canonical(render_followup(followup)).created_at is not None


def test_lapor_accepts_the_mapped_payload(lapor: Mapping) -> None:
    """The create endpoint validates our payload; the stored complaint maps back unchanged.

    The connector adds the agency's identity ([agency]) before sending; so does this test.
    """
    state = LaporState()
    new_id = state.create_complaint({**lapor.to_native(_complaint()), "disposition_id": 1001})
    back = lapor.to_canonical(render_detail(state.complaints[new_id], state.docs))
    assert (back.title, back.category, back.is_secret) == ("Sampah menumpuk", "lingkungan", True)
    assert back.tags == ("sampah", "lb0123456789abcdef")
