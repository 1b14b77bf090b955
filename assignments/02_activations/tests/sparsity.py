OK_FORMAT = True

test = {   'all_or_nothing': True,
    'name': 'sparsity',
    'points': 2,
    'suites': [   {   'cases': [   {   'code': ">>> assert isinstance(baseline_blank, dict) and set(baseline_blank) == set(conv_names), 'one entry per layer of conv_names'\n",
                                       'hidden': False,
                                       'locked': False},
                                   {'code': ">>> assert all((0 <= float(v) <= 1 for v in baseline_blank.values())), 'fractions between 0 and 1'\n", 'hidden': False, 'locked': False}],
                      'scored': True,
                      'setup': '',
                      'teardown': '',
                      'type': 'doctest'}]}
