"""The Predict tab: :mod:`.panel` is the tab itself; the rest are its parts (:mod:`.delegate`, :mod:`.jobs`, :mod:`.layout`, :mod:`.model`, :mod:`.runs`)."""
