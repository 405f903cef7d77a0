"""Intake: what the customer brings (a KiCad board file) turned into what a product family needs.

    from somana_core.intake import read_board, classify, find_openings
    board = read_board("my.kicad_pcb")          # outline, thickness, holes, footprints (KiCad 6-9)
    parts = classify(board)                     # class and height of every footprint
    openings = find_openings(board, parts)      # connectors at the edge, buttons/LEDs/displays facing up

Pure Python (numpy, the data tables): no KiCad, no CadQuery.
"""

from somana_core.intake.components import Opening, Part, chosen_openings, classify, find_openings
from somana_core.intake.kicad import Board, Footprint, MountingHole, read_board, read_board_bytes

__all__ = ["Board", "Footprint", "MountingHole", "Opening", "Part", "chosen_openings", "classify",
           "find_openings", "read_board", "read_board_bytes"]
