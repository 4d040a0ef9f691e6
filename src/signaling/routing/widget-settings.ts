import type { WidgetSettings } from '../protocol';

/**
 * Built-in widget settings; an organisation's `widgetSettings` (AGENTS_FILE) override them key by
 * key, so a widget always receives a complete set.
 */
export const DEFAULT_WIDGET_SETTINGS: Readonly<WidgetSettings> = Object.freeze({
  position: 'bottom-right',
  size: 'medium',
  theme: 'light',
  triggerDelaySeconds: 3,
  autoHideDelaySeconds: null,
  showMinimizeButton: true,
});

export function widgetSettingsFor(overrides: WidgetSettings | undefined): WidgetSettings {
  return { ...DEFAULT_WIDGET_SETTINGS, ...(overrides ?? {}) };
}
