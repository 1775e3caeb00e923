"""The Augment tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.panel`, :mod:`.preview`)."""
