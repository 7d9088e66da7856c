"""What the stages that group segments share, below them all: the informative segments with
their cached vectors (`vectors`), and the links between themes and touchpoints (`links`).
Themes and touchpoints both use them and never import each other."""
