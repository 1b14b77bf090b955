OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'augment',
    'points': 2,
    'suites': [   {   'cases': [   {'code': '>>> assert isinstance(max_rotation_degrees, (int, float)) and isinstance(max_shift_pixels, (int, float))\n', 'hidden': False, 'locked': False},
                                   {'code': '>>> assert 0 < max_rotation_degrees <= 180 and 0 < max_shift_pixels <= 150\n', 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
