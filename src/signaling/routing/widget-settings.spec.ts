import { DEFAULT_WIDGET_SETTINGS, widgetSettingsFor } from './widget-settings';

describe('widgetSettingsFor', () => {
  it('is the built-in set when nobody sets anything, with exactly the widget’s eight keys', () => {
    // The values themselves are pinned, apart from this code, by the e2e suites' BUILT_IN_WIDGET_SETTINGS.
    expect(widgetSettingsFor(undefined)).toEqual(DEFAULT_WIDGET_SETTINGS);
    expect(Object.keys(widgetSettingsFor({}, {})).sort()).toEqual([
      'auto_hide_delay',
      'cobrowse_enabled',
      'devices',
      'position',
      'show_minimize_button',
      'size',
      'theme',
      'trigger_delay',
    ]);
  });

  it('takes the pool’s value over the organisation’s over the default, key by key', () => {
    const settings = widgetSettingsFor(
      { position: 'top-left', theme: 'light', trigger_delay: 10 },
      { theme: 'liquid-glass', cobrowse_enabled: false },
    );
    expect(settings).toEqual({
      ...DEFAULT_WIDGET_SETTINGS,
      position: 'top-left',
      theme: 'liquid-glass',
      trigger_delay: 10,
      cobrowse_enabled: false,
    });
  });

  it('lets a layer set auto_hide_delay back to null', () => {
    expect(widgetSettingsFor({ auto_hide_delay: 20 }, { auto_hide_delay: null }).auto_hide_delay).toBeNull();
    expect(widgetSettingsFor({ auto_hide_delay: 20 }).auto_hide_delay).toBe(20);
  });

  it('never passes on keys or values the widget does not understand (rows stored by older versions)', () => {
    const stored = {
      triggerDelaySeconds: 1,
      greeting: 'Hi',
      size: 'huge',
      trigger_delay: -4,
      show_minimize_button: 'yes',
    } as unknown as Parameters<typeof widgetSettingsFor>[0];
    expect(widgetSettingsFor(stored)).toEqual(DEFAULT_WIDGET_SETTINGS);
  });

  it('returns a fresh object each time', () => {
    const first = widgetSettingsFor(undefined);
    first.theme = 'light';
    expect(widgetSettingsFor(undefined).theme).toBe('dark');
  });
});
