OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'worst',
    'points': 2,
    'suites': [   {   'cases': [   {'code': '>>> assert isinstance(worst_photo, int) and 0 <= worst_photo < len(images)\n', 'hidden': False, 'locked': False},
                                   {'code': '>>> assert isinstance(logit_drop, float)\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
