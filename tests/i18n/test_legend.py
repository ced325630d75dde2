"""The suppression legend in the reader's language; the markers stay the same codes."""

from __future__ import annotations

from models.analytics.suppression import explain, legend
from models.core import i18n


def test_the_legend_is_explained_in_spanish_with_the_same_markers() -> None:
    english = legend()
    with i18n.use_locale("es"):
        spanish = legend()
        assert explain("<10") == "menos de 10 personas — se oculta para proteger la privacidad"
        assert explain("<25") == "menos de 25 personas — se oculta para proteger la privacidad"
        assert explain("<7 partners").startswith("menos de 7 socios lo informaron")
        assert explain("no such marker") == "oculto para proteger la privacidad"
    assert spanish.keys() == english.keys()
    assert all(spanish[m] != english[m] for m in english)
    assert english["<10"] == "fewer than 10 people — hidden to protect privacy"
    assert english["<5%"] == "under 5% — the exact rate would single out a handful of people"
