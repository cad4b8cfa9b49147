import 'vuetify/styles'
import { h } from 'vue'
import { createVuetify, type IconProps, type IconSet } from 'vuetify'
import { aliases, mdi as mdiSvg } from 'vuetify/iconsets/mdi-svg'
import { ICONS } from './icons'

/**
 * Icons are SVG paths (only the ones in icons.ts are bundled), not the Material Design icon font: the font and its
 * stylesheet (~53 KB gzip of CSS and a ~400 KB font) were most of a first load. `icon="mdi-…"` keeps working.
 */
const mdi: IconSet = {
  component: (props: IconProps) => h(mdiSvg.component, { ...props, icon: typeof props.icon === 'string' ? (ICONS[props.icon] ?? props.icon) : props.icon }),
}

export function createAppVuetify(): ReturnType<typeof createVuetify> {
  return createVuetify({
    // Follows the operating system's light/dark preference.
    theme: { defaultTheme: 'system' },
    icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
  })
}
