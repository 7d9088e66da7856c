"""The concept lexicon (`lexicon`: the team-written concepts of models/concepts/ and users'
own) and its space in the encoder (`space`: per-language phrase means, the discriminant
projection that aligns languages, concept scores). Shared by themes (labels, alignment) and
touchpoints (concept evidence, alignment), so it sits below both."""
