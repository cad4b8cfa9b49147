// Monaco's web workers are bundled by Vite from node_modules; nothing is loaded from a CDN.
import 'graphiql/setup-workers/vite'
import 'graphiql/style.css'
import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { GraphqlIde } from './GraphqlIde'

const container = document.getElementById('root')
if (!container) throw new Error('The IDE page has no #root element')

createRoot(container).render(
  <StrictMode>
    <GraphqlIde />
  </StrictMode>,
)
