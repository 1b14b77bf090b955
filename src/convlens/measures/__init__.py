"""Everything that measures one of the lecture's claims, split by what is measured."""

__all__: list[str] = []
