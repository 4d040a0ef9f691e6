import {
  WIDGET_DEVICES,
  WIDGET_POSITIONS,
  WIDGET_SIZES,
  WIDGET_THEMES,
  type WidgetSettingsOverrides,
} from '../../auth/directory/directory.types';
import type { WidgetSettings } from '../protocol';

/** The built-in settings (PROTOCOL §2.3), under every organisation's and pool's own. */
export const DEFAULT_WIDGET_SETTINGS: Readonly<WidgetSettings> = Object.freeze({
  size: 'medium',
  position: 'bottom-right',
  devices: 'all',
  trigger_delay: 3,
  auto_hide_delay: null,
  show_minimize_button: false,
  theme: 'dark',
  cobrowse_enabled: true,
});

const oneOf =
  <T extends string>(values: readonly T[]) =>
  (value: unknown): value is T =>
    (values as readonly unknown[]).includes(value);
const seconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;
const flag = (value: unknown): value is boolean => typeof value === 'boolean';

/** What each key accepts; the agents file is validated the same way before it is stored. */
const ACCEPTS: { [K in keyof WidgetSettings]: (value: unknown) => value is WidgetSettings[K] } = {
  size: oneOf(WIDGET_SIZES),
  position: oneOf(WIDGET_POSITIONS),
  devices: oneOf(WIDGET_DEVICES),
  trigger_delay: seconds,
  auto_hide_delay: (value): value is number | null => value === null || seconds(value),
  show_minimize_button: flag,
  theme: oneOf(WIDGET_THEMES),
  cobrowse_enabled: flag,
};
const KEYS = Object.keys(ACCEPTS) as (keyof WidgetSettings)[];

/**
 * The settings a visitor's widget gets: key by key, the pool's value, else the organisation's, else
 * the built-in one. Only the widget's own keys with values it understands are taken, so a row
 * stored by an older version (other spellings, other keys) can never reach a widget.
 */
export function widgetSettingsFor(
  organization: WidgetSettingsOverrides | undefined,
  pool?: WidgetSettingsOverrides,
): WidgetSettings {
  const settings: Record<string, unknown> = { ...DEFAULT_WIDGET_SETTINGS };
  for (const layer of [organization, pool]) {
    if (!layer) continue;
    for (const key of KEYS) {
      const value: unknown = (layer as Record<string, unknown>)[key];
      if (value !== undefined && ACCEPTS[key](value)) settings[key] = value;
    }
  }
  return settings as unknown as WidgetSettings;
}
