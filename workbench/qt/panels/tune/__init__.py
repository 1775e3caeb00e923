"""The Tune tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.panel`, :mod:`.plots`, :mod:`.results`, :mod:`.space_editor`, :mod:`.worker`)."""
