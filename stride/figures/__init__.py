"""Animated figures of the exercises: a posed 3-D mannequin drawn into looping GIFs.

Pure and Discord-free: `spec` reads the poses, `skeleton` and `scene` move the body, `draw`
paints the frames, `checks` measures them, `library` keeps the GIFs the bot attaches.
"""

from .checks import Report, measure
from .draw import render_gif
from .library import Figure, FigureLibrary, shipped_folder
from .spec import FigureSpec, library_figures, load_figures

__all__ = ["Figure", "FigureLibrary", "FigureSpec", "Report", "library_figures",
           "load_figures", "measure", "render_gif", "shipped_folder"]
