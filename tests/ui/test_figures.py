"""An embed with its figure: the image points at the attached GIF, by name."""

from __future__ import annotations

import discord

from stride.figures import Figure
from ui.figures import attach, replace

CLAMS = Figure("clams", "clams.gif", b"GIF89a...")


def test_attach_points_the_image_at_the_file_it_sends() -> None:
    sent = attach(discord.Embed(title="Clams"), CLAMS, "Clams")
    assert sent["embed"].image.url == "attachment://clams.gif"
    assert sent["file"].filename == "clams.gif"
    assert sent["file"].description == "Animated figure: Clams"
    assert sent["file"].fp.read() == b"GIF89a..."


def test_without_a_figure_nothing_is_attached() -> None:
    sent = attach(discord.Embed(title="Wall sit"), None, "Wall sit")
    assert set(sent) == {"embed"} and sent["embed"].image.url is None


def test_an_edit_replaces_the_attachments_or_clears_them() -> None:
    edited = replace(discord.Embed(), CLAMS, "Clams")
    assert [f.filename for f in edited["attachments"]] == ["clams.gif"]
    assert edited["embed"].image.url == "attachment://clams.gif"
    assert replace(discord.Embed(), None, "Done")["attachments"] == []
