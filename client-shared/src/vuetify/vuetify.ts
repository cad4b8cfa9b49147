// Vuetify's stylesheet in its parts (the same as 'vuetify/styles'), so a build can keep only the utility classes in
// use (client-vite-config.mjs): reset and base, the colour classes (`color="grey"` becomes bg-grey), utilities.
import 'vuetify/styles/core'
import 'vuetify/styles/colors'
import 'vuetify/styles/utilities'
import { h } from 'vue'
import { createVuetify, type IconProps, type IconSet, type ThemeDefinition } from 'vuetify'
import { aliases, mdi as mdiSvg } from 'vuetify/iconsets/mdi-svg'
import { ICONS } from './icons'

/**
 * Icons are SVG paths (only the ones in icons.ts are bundled), not the Material Design icon font: the font and its
 * stylesheet (~53 KB gzip of CSS and a ~400 KB font) were most of a first load. `icon="mdi-…"` keeps working.
 */
const mdi: IconSet = {
  component: (props: IconProps) => h(mdiSvg.component, { ...props, icon: typeof props.icon === 'string' ? (ICONS[props.icon] ?? props.icon) : props.icon }),
}

/**
 * Colours chosen for WCAG 2 AA contrast (4.5:1 for text), checked by the e2e's axe-core run on every page.
 * Vuetify's defaults fail it: white on the dark theme's #2196F3 app bar (3.1:1), white on #4CAF50 chips (2.8:1),
 * and labels at 60 % of 87 % black on the filled fields' grey (4:1). Each colour here must hold as a background
 * under its `on-` colour, as text on the surface, and as text on its own 12 % tint (tonal alerts and chips).
 */
const light: ThemeDefinition = {
  dark: false,
  colors: {
    primary: '#1867C0',
    secondary: '#00796B',
    error: '#B00020',
    info: '#1565C0',
    success: '#1B6E20',
    warning: '#A04A00',
    'on-primary': '#FFFFFF',
    'on-secondary': '#FFFFFF',
    'on-error': '#FFFFFF',
    'on-info': '#FFFFFF',
    'on-success': '#FFFFFF',
    'on-warning': '#FFFFFF',
  },
  // Labels, hints and subtitles use this share of the text colour: 0.6 leaves them below 4.5:1.
  variables: { 'medium-emphasis-opacity': 0.72 },
}

/** Light tones with dark text on them: white on a saturated blue or green does not reach 4.5:1. */
const dark: ThemeDefinition = {
  dark: true,
  colors: {
    primary: '#64B5F6',
    secondary: '#80CBC4',
    error: '#EF9A9A',
    info: '#64B5F6',
    success: '#81C784',
    warning: '#FFB74D',
    'on-primary': '#000000',
    'on-secondary': '#000000',
    'on-error': '#000000',
    'on-info': '#000000',
    'on-success': '#000000',
    'on-warning': '#000000',
  },
}

export function createAppVuetify(): ReturnType<typeof createVuetify> {
  return createVuetify({
    // Follows the operating system's light/dark preference.
    theme: { defaultTheme: 'system', themes: { light, dark } },
    icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
  })
}
