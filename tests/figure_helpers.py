"""Checks shared by the figure tests."""


def assert_figure_written(paths, prefix) -> None:
    """PNG and PDF beside the prefix, each a real, non-blank image file."""
    import matplotlib.image

    assert [str(p) for p in paths] == [f"{prefix}.png", f"{prefix}.pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and pdf.startswith(b"%PDF") and len(png) > 5000 and len(pdf) > 1000
    assert matplotlib.image.imread(paths[0]).std() > 0.01  # something was drawn
